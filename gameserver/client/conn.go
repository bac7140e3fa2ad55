package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/atollgg/atoll/gameserver/netcode"
	"github.com/atollgg/atoll/gameserver/server"
	"github.com/coder/websocket"
)

// Defaults of Options' zero values.
const (
	// DefaultPingInterval is how often a connection measures its round
	// trip: once a second is plenty for a display and costs nothing.
	DefaultPingInterval = time.Second
	// handshakeTimeout bounds the handshake (hello, welcome) when ctx has
	// no earlier deadline: the server answers within its own 5 s hello
	// timeout or not at all.
	handshakeTimeout = 10 * time.Second
	// writeTimeout bounds one frame write; a server that cannot take an
	// input frame for this long is gone.
	writeTimeout = 5 * time.Second
	// readQueue buffers frames between the reader goroutine and the play
	// loop: two seconds of 30 Hz snapshots and events.
	readQueue = 128
)

// Options tune a game connection; the zero value means the defaults.
type Options struct {
	// Encoding is the netcode encoding; zero is netcode.Binary.
	Encoding netcode.Encoding
	// Redundancy caps how many unacknowledged inputs each input frame
	// repeats, so a lost frame costs nothing; zero means
	// netcode.MaxInputsPerFrame.
	Redundancy int
	// PingInterval is how often to measure the round trip; zero means
	// DefaultPingInterval.
	PingInterval time.Duration
	// HTTPClient dials the WebSocket; nil means http.DefaultClient.
	HTTPClient *http.Client
}

func (o Options) withDefaults() Options {
	if o.Redundancy <= 0 || o.Redundancy > netcode.MaxInputsPerFrame {
		o.Redundancy = netcode.MaxInputsPerFrame
	}
	if o.PingInterval <= 0 {
		o.PingInterval = DefaultPingInterval
	}
	return o
}

// Errors of a connection. Close errors from the server also match
// *CloseError.
var (
	// ErrProtocol: the server sent something this client cannot follow.
	ErrProtocol = errors.New("game client: protocol error")
	// ErrStalled: the server acknowledged no input for predict.MaxPending
	// ticks; the connection is as good as dead.
	ErrStalled = errors.New("game client: server stopped acknowledging inputs")
)

// CloseError is the server closing the connection, with its code and
// reason (see the server package's and arenagame's Close* codes).
type CloseError struct {
	Code   websocket.StatusCode
	Reason string
}

func (e *CloseError) Error() string {
	return fmt.Sprintf("game server closed the connection: %d %s", int(e.Code), e.Reason)
}

// Retryable reports whether reconnecting with a fresh token may help:
// the server is not ready yet, or the connection was lost or replaced.
func (e *CloseError) Retryable() bool {
	switch e.Code {
	case server.CloseNotReady, websocket.StatusAbnormalClosure:
		return true
	}
	return false
}

// Hello is the server's answer to the connect token (the server
// package's welcome): who and where this connection plays.
type Hello struct {
	SessionID string `json:"session_id"`
	PlayerID  string `json:"player_id"`
	Mode      string `json:"mode"`
}

// Conn is an authenticated connection to a game server, past the
// handshake. Play drives it; it is not safe for concurrent use.
type Conn struct {
	ws      *websocket.Conn
	opts    Options
	cc      *netcode.ClientConn
	hello   Hello
	welcome netcode.Welcome
	epoch   time.Time // ping timestamps count from here
	stats   Stats
}

// URL returns the WebSocket URL of a game server at host:port.
func URL(host string, port int) string {
	return "ws://" + net.JoinHostPort(host, strconv.Itoa(port)) + server.PathConnect
}

// Dial connects to the game server at url (see URL), authenticates with
// the connect token, chooses the encoding and returns once the server has
// seated the player (netcode Welcome).
func Dial(ctx context.Context, url, token string, opts Options) (*Conn, error) {
	opts = opts.withDefaults()
	hctx, cancel := context.WithTimeout(ctx, handshakeTimeout)
	defer cancel()
	ws, _, err := websocket.Dial(hctx, url, &websocket.DialOptions{HTTPClient: opts.HTTPClient})
	if err != nil {
		return nil, fmt.Errorf("dial game server: %w", err)
	}
	ws.SetReadLimit(max(netcode.MaxFrameSize, netcode.MaxJSONFrameSize))
	c := &Conn{ws: ws, opts: opts, cc: netcode.NewClientConn(), epoch: time.Now()}
	if err := c.handshake(hctx, token); err != nil {
		_ = ws.CloseNow()
		return nil, err
	}
	return c, nil
}

func (c *Conn) handshake(ctx context.Context, token string) error {
	hello, _ := json.Marshal(map[string]string{"token": token})
	if err := c.ws.Write(ctx, websocket.MessageText, hello); err != nil {
		return fmt.Errorf("send hello: %w", err)
	}
	_, data, err := c.ws.Read(ctx)
	if err != nil {
		return closeErr("read hello answer", err)
	}
	var h struct {
		Hello
		Type string `json:"type"`
	}
	if err := json.Unmarshal(data, &h); err != nil || h.Type != "welcome" || h.PlayerID == "" {
		return fmt.Errorf("%w: unexpected hello answer", ErrProtocol)
	}
	c.hello = h.Hello
	// The first frame chooses the encoding; a ping also starts the RTT.
	if err := c.ping(ctx, 0); err != nil {
		return err
	}
	var f netcode.ServerFrame
	for {
		_, data, err := c.ws.Read(ctx)
		if err != nil {
			return closeErr("read welcome", err)
		}
		c.stats.BytesIn += uint64(len(data))
		if err := c.cc.DecodeServerFrame(data, &f); err != nil {
			return fmt.Errorf("%w: %v", ErrProtocol, err)
		}
		switch f.Kind {
		case netcode.FrameWelcome:
			if f.Welcome.Version != netcode.ProtocolVersion {
				return fmt.Errorf("%w: server speaks protocol %d, want %d", ErrProtocol, f.Welcome.Version, netcode.ProtocolVersion)
			}
			c.welcome = f.Welcome
			return nil
		case netcode.FramePong:
			c.pong(f.Pong)
		case netcode.FrameKick:
			return &CloseError{Code: websocket.StatusPolicyViolation, Reason: f.Kick.Reason.String()}
		}
	}
}

// Hello returns who and where this connection plays.
func (c *Conn) Hello() Hello { return c.hello }

// Welcome returns the player's seat and the match rules.
func (c *Conn) Welcome() netcode.Welcome { return c.welcome }

// Close ends the connection normally.
func (c *Conn) Close() error {
	return c.ws.Close(websocket.StatusNormalClosure, "bye")
}

// write sends one frame in the connection's encoding.
func (c *Conn) write(ctx context.Context, data []byte) error {
	typ := websocket.MessageBinary
	if c.opts.Encoding == netcode.JSON {
		typ = websocket.MessageText
	}
	wctx, cancel := context.WithTimeout(ctx, writeTimeout)
	defer cancel()
	if err := c.ws.Write(wctx, typ, data); err != nil {
		return fmt.Errorf("write frame: %w", err)
	}
	c.stats.BytesOut += uint64(len(data))
	c.stats.FramesOut++
	return nil
}

func (c *Conn) ping(ctx context.Context, id uint32) error {
	b, err := netcode.AppendClientFrame(nil, c.opts.Encoding, &netcode.ClientFrame{
		Kind: netcode.FramePing, Ping: netcode.Ping{ID: id, ClientTime: uint64(time.Since(c.epoch))},
	})
	if err != nil {
		return err
	}
	return c.write(ctx, b)
}

func (c *Conn) pong(p netcode.Pong) {
	rtt := time.Since(c.epoch) - time.Duration(p.ClientTime)
	if rtt < 0 {
		return // not our timestamp
	}
	c.stats.RTT = rtt
	c.stats.MaxRTT = max(c.stats.MaxRTT, rtt)
	c.stats.Pongs++
}

// closeErr turns a read failure into a *CloseError when the server closed
// the connection.
func closeErr(what string, err error) error {
	var ce websocket.CloseError
	if errors.As(err, &ce) {
		return &CloseError{Code: ce.Code, Reason: ce.Reason}
	}
	return fmt.Errorf("%s: %w", what, err)
}
