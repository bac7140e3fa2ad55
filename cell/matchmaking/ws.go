package matchmaking

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/atollgg/atoll/internal/httpx"
	"github.com/atollgg/atoll/internal/ratelimit"
	"github.com/atollgg/atoll/internal/tokens"
	"github.com/coder/websocket"
)

// WebSocket limits and timings.
const (
	// MaxWSMessage bounds a client frame: the largest client message is an
	// auth message carrying one access token (tokens.MaxTokenLength).
	MaxWSMessage = tokens.MaxTokenLength + 512
	// wsQueueSize bounds each connection's queue of unsent status updates.
	// Each update is the ticket's whole state, so when a slow client lets
	// the queue fill the oldest is dropped: the client still ends up with
	// the latest state.
	wsQueueSize = 8
	// wsAuthTimeout is how long a connection without an Authorization
	// header has to send its auth message.
	wsAuthTimeout = 5 * time.Second
	// wsPingInterval and wsPingTimeout detect dead peers (and keep NATs and
	// proxies from closing idle connections, which they do after 30-60 s).
	wsPingInterval = 20 * time.Second
	wsPingTimeout  = 10 * time.Second
	// wsWriteTimeout bounds one write to a client.
	wsWriteTimeout = 10 * time.Second
	// DefaultMaxWSConnections bounds the cell's WebSockets unless
	// Config.MaxWebSockets says otherwise: each costs one goroutine and its
	// buffers (about 16 KiB of RSS), and far fewer players wait at once.
	DefaultMaxWSConnections = 20_000
	// MaxWSConnectionsLimit bounds Config.MaxWebSockets: a million idle
	// players is about 16 GiB, more than one cell should hold.
	MaxWSConnectionsLimit = 1_000_000
	// MaxWSPerPlayer bounds one player's WebSockets: a client and a
	// reconnecting one, with room to spare.
	MaxWSPerPlayer = 4
	// MaxWSPending bounds WebSockets still waiting for their auth message
	// (they count against Config.MaxWebSockets too): each holds a goroutine for
	// up to wsAuthTimeout, and honest clients authenticate within a round
	// trip, so a thousand is a burst of reconnects, not a steady state.
	MaxWSPending = 1024
)

// wsFrameRate bounds the frames one client may send: a client asks for its
// status once at start and after a reconnect, and the cell pushes every
// change, so two a second with a burst of ten is generous. A client beyond
// it is closed with a policy violation.
var wsFrameRate = ratelimit.Rate{Events: 2, Per: time.Second, Burst: 10}

// ClientMessage is a message a client sends on /ws.
type ClientMessage struct {
	// Type is "auth" (first message, when no Authorization header was
	// sent) or "status" (send me my current status).
	Type  string `json:"type"`
	Token string `json:"token,omitempty"`
}

// ServerMessage is a message the cell sends on /ws.
type ServerMessage struct {
	// Type is "status" (Status is set) or "no_ticket" (the player has none).
	Type   string  `json:"type"`
	Status *Status `json:"status,omitempty"`
}

// DecodeClientMessage strictly decodes one client frame.
func DecodeClientMessage(b []byte) (ClientMessage, error) {
	var m ClientMessage
	if len(b) > MaxWSMessage {
		return m, errors.New("message too large")
	}
	if err := httpx.DecodeStrict(bytes.NewReader(b), &m); err != nil {
		return m, err
	}
	switch m.Type {
	case "auth":
		if m.Token == "" || len(m.Token) > tokens.MaxTokenLength {
			return m, errors.New("auth message needs a token")
		}
	case "status":
		if m.Token != "" {
			return m, errors.New("status message takes no token")
		}
	default:
		return m, errors.New(`type must be "auth" or "status"`)
	}
	return m, nil
}

// wsConn is one player's WebSocket. It costs one long-lived goroutine
// (serveWS, reading client frames): pings, the token's expiry and
// status pushes run on timers and short-lived goroutines, so an idle
// player holds no second stack (see /work/notes/ccu.md for the figures).
type wsConn struct {
	player string
	cancel context.CancelFunc
	// write sends one message; nil in hub tests that only count.
	write func(ServerMessage) error
	// fail closes the connection after a failed write.
	fail func()

	mu      sync.Mutex // guards following
	queue   []ServerMessage
	writing bool           // a flush goroutine is running
	stopped bool           // serveWS has returned: start no goroutines
	pinger  *time.Timer    // fires the next ping
	wg      sync.WaitGroup // flush and ping goroutines, waited for by serveWS
}

// push queues m and starts a flush goroutine unless one is running.
func (c *wsConn) push(m ServerMessage) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.queue) == wsQueueSize {
		copy(c.queue, c.queue[1:])
		c.queue = c.queue[:wsQueueSize-1]
	}
	c.queue = append(c.queue, m)
	if c.writing || c.stopped || c.write == nil {
		return
	}
	c.writing = true
	c.wg.Add(1)
	go c.flush()
}

// flush writes the queue until it is empty, in order; one runs at a time.
func (c *wsConn) flush() {
	defer c.wg.Done()
	for {
		c.mu.Lock()
		q := c.queue
		c.queue = nil
		if len(q) == 0 || c.stopped {
			c.writing = false
			c.mu.Unlock()
			return
		}
		c.mu.Unlock()
		for _, m := range q {
			if err := c.write(m); err != nil {
				c.fail()
				c.mu.Lock()
				c.writing = false
				c.mu.Unlock()
				return
			}
		}
	}
}

// spawn runs f in a goroutine the handler waits for, unless it has returned.
func (c *wsConn) spawn(f func()) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stopped {
		return
	}
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		f()
	}()
}

// stop starts no more goroutines and waits for those running.
func (c *wsConn) stop() {
	c.mu.Lock()
	c.stopped = true
	c.mu.Unlock()
	c.wg.Wait()
}

// hub tracks the open WebSockets by player.
type hub struct {
	s *Service

	// maxConns and maxPending are Config.MaxWebSockets and MaxWSPending.
	maxConns, maxPending int

	mu      sync.Mutex // guards following
	conns   map[string]map[*wsConn]struct{}
	total   int
	pending int // accepted, not yet authenticated
	closed  bool
}

func newHub(s *Service, maxConns int) *hub {
	return &hub{s: s, conns: map[string]map[*wsConn]struct{}{}, maxConns: maxConns, maxPending: MaxWSPending}
}

// reservePending counts a connection that has yet to authenticate against
// both caps; the caller must call releasePending once it has.
func (h *hub) reservePending() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	switch {
	case h.closed:
		return errHubClosed
	case h.total+h.pending >= h.maxConns || h.pending >= h.maxPending:
		return errHubFull
	}
	h.pending++
	return nil
}

func (h *hub) releasePending() {
	h.mu.Lock()
	h.pending--
	h.mu.Unlock()
}

var (
	errHubFull     = errors.New("too many connections")
	errPlayerLimit = errors.New("too many connections for this player")
	errHubClosed   = errors.New("shutting down")
)

// add registers c; on success the caller must call remove, and the service
// waits for it at shutdown.
func (h *hub) add(c *wsConn) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	switch {
	case h.closed:
		return errHubClosed
	case h.total+h.pending >= h.maxConns:
		return errHubFull
	case len(h.conns[c.player]) >= MaxWSPerPlayer:
		return errPlayerLimit
	}
	if h.conns[c.player] == nil {
		h.conns[c.player] = map[*wsConn]struct{}{}
	}
	h.conns[c.player][c] = struct{}{}
	h.total++
	h.s.wg.Add(1)
	return nil
}

func (h *hub) remove(c *wsConn) {
	h.mu.Lock()
	if set := h.conns[c.player]; set != nil {
		if _, ok := set[c]; ok {
			delete(set, c)
			h.total--
			if len(set) == 0 {
				delete(h.conns, c.player)
			}
			h.s.wg.Done()
		}
	}
	h.mu.Unlock()
}

func (h *hub) full() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.closed || h.total+h.pending >= h.maxConns
}

func (h *hub) connsOf(player string) []*wsConn {
	h.mu.Lock()
	defer h.mu.Unlock()
	set := h.conns[player]
	out := make([]*wsConn, 0, len(set))
	for c := range set {
		out = append(out, c)
	}
	return out
}

func (h *hub) closeAll() {
	h.mu.Lock()
	h.closed = true
	for _, set := range h.conns {
		for c := range set {
			c.cancel()
		}
	}
	h.mu.Unlock()
}

// notify pushes the current status to every WebSocket of each player.
func (s *Service) notify(players ...string) {
	for _, p := range players {
		conns := s.hub.connsOf(p)
		if len(conns) == 0 {
			continue
		}
		msg := s.statusMessage(p)
		for _, c := range conns {
			c.push(msg)
		}
	}
}

func (s *Service) statusMessage(player string) ServerMessage {
	st, ok := s.statusOf(player)
	if !ok {
		return ServerMessage{Type: "no_ticket"}
	}
	return ServerMessage{Type: "status", Status: &st}
}

// handleWS serves /ws. The access token comes in the Authorization header
// (checked before the upgrade) or as the first message.
func (s *Service) handleWS(w http.ResponseWriter, r *http.Request) {
	var claims *tokens.AccessClaims
	if tok, ok := httpx.BearerToken(r); ok {
		c, err := s.verifyAccess(tok)
		if err != nil {
			if errors.Is(err, tokens.ErrKeysUnavailable) {
				httpx.WriteError(w, httpx.Unavailable("token keys unavailable"))
				return
			}
			httpx.WriteError(w, httpx.Unauthenticated("invalid or expired token"))
			return
		}
		claims = c
	}
	busy := &httpx.Error{Status: http.StatusServiceUnavailable, Code: httpx.CodeUnavailable, Message: "too many connections, retry later", RetryAfter: queueFullRetry}
	if s.hub.full() {
		httpx.WriteError(w, busy)
		return
	}
	pending := claims == nil
	if pending {
		if err := s.hub.reservePending(); err != nil {
			httpx.WriteError(w, busy)
			return
		}
		defer func() {
			if pending {
				s.hub.releasePending()
			}
		}()
	}
	// The server's read and write timeouts are for requests; a WebSocket
	// lives longer and has its own pings and write timeouts.
	rc := http.NewResponseController(w)
	_ = rc.SetReadDeadline(time.Time{})
	_ = rc.SetWriteDeadline(time.Time{})
	conn, err := websocket.Accept(smallBufWriter{w}, r, &websocket.AcceptOptions{CompressionMode: websocket.CompressionDisabled})
	if err != nil {
		return // Accept has answered the client
	}
	handedOff := false // serveWS owns conn and ctx
	defer func() {
		if !handedOff {
			conn.CloseNow()
		}
	}()
	conn.SetReadLimit(MaxWSMessage)
	ctx, cancel := context.WithCancel(s.runCtx)
	defer func() {
		if !handedOff {
			cancel()
		}
	}()

	if claims == nil {
		actx, acancel := context.WithTimeout(ctx, wsAuthTimeout)
		_, data, err := conn.Read(actx)
		acancel()
		if err != nil {
			conn.Close(websocket.StatusPolicyViolation, "auth message expected")
			return
		}
		m, err := DecodeClientMessage(data)
		if err != nil || m.Type != "auth" {
			conn.Close(websocket.StatusPolicyViolation, "first message must be auth")
			return
		}
		if claims, err = s.verifyAccess(m.Token); err != nil {
			conn.Close(websocket.StatusPolicyViolation, "invalid or expired token")
			return
		}
	}
	if pending {
		s.hub.releasePending()
		pending = false
	}
	c := &wsConn{player: claims.PlayerID(), cancel: cancel}
	c.write = func(m ServerMessage) error { return s.wsWrite(ctx, conn, m) }
	c.fail = func() { conn.CloseNow() }
	if err := s.hub.add(c); err != nil {
		conn.Close(websocket.StatusTryAgainLater, err.Error())
		return
	}
	// The connection is served on a goroutine of its own, and the
	// handler returns: net/http's serving goroutine then ends, freeing its
	// stack (grown by the request's handling) and the 4 KiB buffers it
	// keeps, which would otherwise live as long as the connection. The
	// service waits for it at shutdown (hub.add counted it).
	handedOff = true
	go s.serveWS(ctx, cancel, conn, c, claims.ExpiresAt.Time)
}

// serveWS serves an authenticated WebSocket until it closes.
func (s *Service) serveWS(ctx context.Context, cancel context.CancelFunc, conn *websocket.Conn, c *wsConn, expiresAt time.Time) {
	defer cancel()
	defer conn.CloseNow()
	defer s.hub.remove(c)
	s.metrics.wsConns.Inc()
	defer s.metrics.wsConns.Dec()
	// Runs before hub.remove: no goroutine of c outlives serveWS.
	defer func() { conn.CloseNow(); cancel(); c.stop() }()

	// Shutdown closes the connection with a reason; the read loop below
	// then returns.
	stopShutdown := context.AfterFunc(ctx, func() {
		c.spawn(func() { conn.Close(websocket.StatusGoingAway, "cell shutting down") })
	})
	defer stopShutdown()
	// The connection lives no longer than the token that opened it: a
	// client reconnects with its refreshed token.
	expiry := time.AfterFunc(time.Until(expiresAt)+tokens.ClockLeeway, func() {
		c.spawn(func() { conn.Close(websocket.StatusPolicyViolation, "token expired") })
	})
	defer expiry.Stop()
	// Pings run on a timer, each in a short-lived goroutine; a ping that
	// fails (dead peer) closes the connection, which ends the read loop.
	c.mu.Lock()
	c.pinger = time.AfterFunc(wsPingInterval, func() {
		c.spawn(func() {
			pctx, pcancel := context.WithTimeout(ctx, wsPingTimeout)
			err := conn.Ping(pctx)
			pcancel()
			if err != nil {
				conn.CloseNow()
				return
			}
			c.mu.Lock()
			if !c.stopped {
				c.pinger.Reset(wsPingInterval)
			}
			c.mu.Unlock()
		})
	})
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		c.pinger.Stop()
		c.mu.Unlock()
	}()
	c.push(s.statusMessage(c.player))

	// The read loop uses a context shutdown does not cancel: cancelling
	// it would drop the connection before the close frame is sent.
	_ = s.wsRead(context.WithoutCancel(ctx), conn, c)
}

var (
	errBadClientMessage = errors.New("bad client message")
	errTooManyMessages  = errors.New("too many client messages")
)

// wsRead handles client messages until the connection fails or a message
// is malformed, which closes it.
func (s *Service) wsRead(ctx context.Context, conn *websocket.Conn, c *wsConn) error {
	var lim *ratelimit.Limiter // made on the first frame: most clients never send one
	for {
		_, data, err := conn.Read(ctx)
		if err != nil {
			return err
		}
		m, err := DecodeClientMessage(data)
		if err != nil || m.Type != "status" {
			conn.Close(websocket.StatusPolicyViolation, "malformed message")
			return errBadClientMessage
		}
		if lim == nil {
			if lim, err = ratelimit.New(wsFrameRate, 1); err != nil {
				return err
			}
		}
		if ok, _ := lim.Allow("", time.Now()); !ok {
			conn.Close(websocket.StatusPolicyViolation, "too many messages")
			return errTooManyMessages
		}
		c.push(s.statusMessage(c.player))
	}
}

func (s *Service) wsWrite(ctx context.Context, conn *websocket.Conn, m ServerMessage) error {
	data, err := json.Marshal(m)
	if err != nil {
		return err
	}
	wctx, cancel := context.WithTimeout(ctx, wsWriteTimeout)
	defer cancel()
	return conn.Write(wctx, websocket.MessageText, data)
}
