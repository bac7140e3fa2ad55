package relay

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/atollgg/atoll/contract"
	"github.com/atollgg/atoll/internal/httpx"
	"github.com/atollgg/atoll/internal/tokens"
	"github.com/atollgg/atoll/topology"
	"github.com/coder/websocket"
	"github.com/golang-jwt/jwt/v5"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/time/rate"
)

// Paths of forwarded play. /connect is the game server's own path, so a
// client that was given the relay's address connects exactly as it would to
// a game server; /play is its documented name.
const (
	PathPlay    = "/play"
	PathConnect = "/connect"
)

// Forwarding limits.
const (
	// DefaultMaxConns bounds forwarded connections per relay; each holds two
	// sockets and two goroutines.
	DefaultMaxConns = 10_000
	// helloTimeout bounds the wait for the player's first frame, as the
	// game server's own (gameserver/server).
	helloTimeout = 5 * time.Second
	// maxHelloBytes bounds the first frame: {"token": "..."}.
	maxHelloBytes = tokens.MaxTokenLength + 64
	// maxUpFrameBytes bounds a player's frame, as the game server does.
	maxUpFrameBytes = 16 << 10
	// maxDownFrameBytes bounds a server's frame: full snapshots of a big
	// match stay well under 1 MiB.
	maxDownFrameBytes = 1 << 20
	// upFrameRate bounds a player's frames per second (bursts of twice
	// it): inputs at 60 Hz with room for pings and chat; a flood is cut
	// before the server.
	upFrameRate = 120
	// upByteRate bounds a player's bytes per second (bursts of twice it):
	// 16 KiB frames at the frame rate would be far beyond any game's input.
	upByteRate = 256 << 10
	// dialTimeout bounds dialing the game server.
	dialTimeout = 5 * time.Second
	// writeTimeout bounds one forwarded write: a peer that stops reading
	// for this long is cut rather than buffered for.
	writeTimeout = 10 * time.Second
)

// Close codes the relay adds to the game server's (gameserver/server).
const (
	closeUnauthorized websocket.StatusCode = 4401
	closeUnavailable                       = websocket.StatusTryAgainLater
	closeRateLimited                       = websocket.StatusPolicyViolation
)

// ForwardConfig configures forwarded play (/play, /connect).
type ForwardConfig struct {
	// Key is the region's forward key (contract.ForwardKeySize bytes),
	// shared with its cells; zero (and no KeyFile) means forwarding is off.
	Key []byte
	// KeyFile holds the key as hex; used when Key is zero.
	KeyFile string
	// MaxConns bounds forwarded connections; zero means DefaultMaxConns.
	MaxConns int
	// FrameRate and ByteRate bound each player's frames and bytes per
	// second (bursts of twice that); zero means 120 frames/s and 256 KiB/s.
	FrameRate, ByteRate int
}

// Enabled reports whether forwarding is configured.
func (c ForwardConfig) Enabled() bool { return len(c.Key) > 0 || c.KeyFile != "" }

// forwarder verifies players' connect tokens and pipes their frames to the
// game server the token's sealed address names.
type forwarder struct {
	cfg     ForwardConfig
	world   func() *topology.World
	region  string
	newKeys func(url, cache string) (*tokens.RemoteKeySet, error)
	log     *slog.Logger
	active  atomic.Int64
	ctx     context.Context
	cancel  context.CancelFunc
	wg      sync.WaitGroup

	refused *prometheus.CounterVec
	bytes   *prometheus.CounterVec

	mu      sync.Mutex           // guards following
	keys    map[string]*cellKeys // by cell id
	closing bool                 // set by close; no connection is tracked after it
}

func newForwarder(cfg ForwardConfig, world func() *topology.World, region string,
	newKeys func(url, cache string) (*tokens.RemoteKeySet, error), reg prometheus.Registerer, log *slog.Logger) (*forwarder, error) {
	if len(cfg.Key) == 0 {
		key, err := contract.ReadForwardKey(cfg.KeyFile)
		if err != nil {
			return nil, err
		}
		cfg.Key = key
	}
	if len(cfg.Key) != contract.ForwardKeySize {
		return nil, fmt.Errorf("forward key is %d bytes, want %d", len(cfg.Key), contract.ForwardKeySize)
	}
	if cfg.MaxConns <= 0 {
		cfg.MaxConns = DefaultMaxConns
	}
	if cfg.FrameRate <= 0 {
		cfg.FrameRate = upFrameRate
	}
	if cfg.ByteRate <= 0 {
		cfg.ByteRate = upByteRate
	}
	ctx, cancel := context.WithCancel(context.Background())
	f := &forwarder{
		cfg: cfg, world: world, region: region, newKeys: newKeys, log: log, ctx: ctx, cancel: cancel,
		keys: map[string]*cellKeys{},
		refused: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "atoll", Subsystem: "relay_forward", Name: "refused_total", Help: "Forwarded connections refused, by reason.",
		}, []string{"reason"}),
		bytes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "atoll", Subsystem: "relay_forward", Name: "bytes_total", Help: "Bytes forwarded, by direction.",
		}, []string{"direction"}),
	}
	active := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Namespace: "atoll", Subsystem: "relay_forward", Name: "connections", Help: "Forwarded connections open.",
	}, func() float64 { return float64(f.active.Load()) })
	if reg != nil {
		for _, c := range []prometheus.Collector{f.refused, f.bytes, active} {
			if err := reg.Register(c); err != nil {
				return nil, err
			}
		}
	}
	return f, nil
}

func (f *forwarder) routes(mux *http.ServeMux) {
	mux.Handle("GET "+PathPlay, f)
	mux.Handle("GET "+PathConnect, f)
}

// run waits for ctx, then ends every forwarded connection.
func (f *forwarder) run(ctx context.Context) {
	<-ctx.Done()
	f.close()
}

func (f *forwarder) close() {
	f.mu.Lock()
	f.closing = true
	f.mu.Unlock()
	f.cancel()
	f.wg.Wait()
}

// track counts a connection in, unless the forwarder is closing.
func (f *forwarder) track() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closing {
		return false
	}
	f.wg.Add(1)
	return true
}

// load is the share of MaxConns in use, 0-100.
func (f *forwarder) load() uint8 {
	return uint8(min(100, f.active.Load()*100/int64(f.cfg.MaxConns)))
}

func (f *forwarder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !f.track() {
		httpx.WriteError(w, httpx.Unavailable("relay stopping"))
		return
	}
	defer f.wg.Done()
	if f.active.Add(1) > int64(f.cfg.MaxConns) {
		f.active.Add(-1)
		f.refused.WithLabelValues("full").Inc()
		e := httpx.Unavailable("relay full")
		e.RetryAfter = time.Second
		httpx.WriteError(w, e)
		return
	}
	defer f.active.Add(-1)
	rc := http.NewResponseController(w)
	_ = rc.SetReadDeadline(time.Time{})
	_ = rc.SetWriteDeadline(time.Time{})
	// Any origin: the token in the first frame is the credential.
	player, err := websocket.Accept(w, r, &websocket.AcceptOptions{InsecureSkipVerify: true})
	if err != nil {
		return
	}
	defer player.CloseNow()
	f.serve(player)
}

func (f *forwarder) serve(player *websocket.Conn) {
	player.SetReadLimit(maxHelloBytes)
	hctx, cancel := context.WithTimeout(f.ctx, helloTimeout)
	typ, hello, err := player.Read(hctx)
	cancel()
	if err != nil {
		f.refused.WithLabelValues("no_hello").Inc()
		return
	}
	token, err := decodeHello(hello)
	if err != nil || typ != websocket.MessageText {
		f.refuse(player, websocket.StatusPolicyViolation, "bad_hello")
		return
	}
	addr, code, reason := f.verify(token, time.Now())
	if code != 0 {
		// Never log the token; the reason is a fixed string.
		f.refuse(player, code, reason)
		return
	}
	dctx, dcancel := context.WithTimeout(f.ctx, dialTimeout)
	server, _, err := websocket.Dial(dctx, "ws://"+addr+PathConnect, nil)
	dcancel()
	if err != nil {
		f.log.Warn("dial game server", "err", err)
		f.refuse(player, closeUnavailable, "server_unreachable")
		return
	}
	defer server.CloseNow()
	server.SetReadLimit(maxDownFrameBytes)
	wctx, wcancel := context.WithTimeout(f.ctx, writeTimeout)
	err = server.Write(wctx, websocket.MessageText, hello) // the hello, unchanged
	wcancel()
	if err != nil {
		f.refuse(player, closeUnavailable, "server_unreachable")
		return
	}
	f.pipe(player, server)
}

func (f *forwarder) refuse(ws *websocket.Conn, code websocket.StatusCode, reason string) {
	f.refused.WithLabelValues(reason).Inc()
	_ = ws.Close(code, reason)
}

// verify checks a connect token before anything is dialed: signed by a cell
// of this relay's region, for a game server, unexpired, carrying an address
// sealed for its own session. It returns that address.
func (f *forwarder) verify(token string, now time.Time) (string, websocket.StatusCode, string) {
	if len(token) > tokens.MaxTokenLength {
		return "", closeUnauthorized, "invalid_token"
	}
	// The issuer and server id choose the keys and the audience; the
	// signature check below covers them.
	var peek tokens.ConnectClaims
	if _, _, err := jwt.NewParser().ParseUnverified(token, &peek); err != nil {
		return "", closeUnauthorized, "invalid_token"
	}
	cellID, ok := strings.CutPrefix(peek.Issuer, contract.ConnectIssuerPrefix)
	region, cell, found := f.world().CellRegion(cellID)
	if !ok || !found || region.ID != f.region || peek.ServerID == "" {
		return "", closeUnauthorized, "invalid_token"
	}
	keys, err := f.keysFor(cell)
	if err != nil {
		return "", websocket.StatusInternalError, "keys_unavailable"
	}
	v, err := tokens.NewVerifier(tokens.VerifierConfig{Keys: keys, Issuer: peek.Issuer, Audience: peek.ServerID, TokenUse: tokens.TokenUseConnect})
	if err != nil {
		return "", closeUnauthorized, "invalid_token"
	}
	var c tokens.ConnectClaims
	err = v.VerifyInto(token, &c, now)
	switch {
	case errors.Is(err, tokens.ErrExpired):
		return "", closeUnauthorized, "token_expired"
	case errors.Is(err, tokens.ErrKeysUnavailable):
		return "", websocket.StatusInternalError, "keys_unavailable"
	case err != nil:
		return "", closeUnauthorized, "invalid_token"
	case c.Forward == "":
		return "", closeUnauthorized, "not_forwarded"
	}
	addr, err := contract.OpenAddr(f.cfg.Key, c.SessionID, c.Forward)
	if err != nil {
		return "", closeUnauthorized, "wrong_session"
	}
	return addr, 0, ""
}

// keysFor returns the connect-token keys of a cell, fetched from its
// ConnectJWKSPath on first use (concurrent first uses share one fetch, so
// none finds the set empty) and whenever a token names an unknown key.
func (f *forwarder) keysFor(cell *topology.Cell) (*tokens.RemoteKeySet, error) {
	url := strings.TrimSuffix(cell.APIURL, "/") + contract.ConnectJWKSPath
	f.mu.Lock()
	e, ok := f.keys[cell.ID]
	if !ok || e.url != url { // new cell, or its URL changed in the topology
		ks, err := f.newKeys(url, "connect-jwks-"+cell.ID+".json")
		if err != nil {
			f.mu.Unlock()
			return nil, err
		}
		e = &cellKeys{url: url, ks: ks}
		f.keys[cell.ID] = e
	}
	f.mu.Unlock()
	if !e.fetched.Load() {
		ctx, cancel := context.WithTimeout(f.ctx, tokens.FetchTimeout)
		err := e.ks.Refresh(ctx) // shared by concurrent callers
		cancel()
		if err == nil {
			e.fetched.Store(true)
		}
	}
	return e.ks, nil
}

// cellKeys are one cell's connect-token keys.
type cellKeys struct {
	url     string
	ks      *tokens.RemoteKeySet
	fetched atomic.Bool // a fetch succeeded once
}

// pipe copies frames both ways until either side closes, then passes the
// close code on to the other, so the player sees the game server's own.
func (f *forwarder) pipe(player, server *websocket.Conn) {
	player.SetReadLimit(maxUpFrameBytes)
	ctx, cancel := context.WithCancel(f.ctx)
	defer cancel()
	frames := rate.NewLimiter(rate.Limit(f.cfg.FrameRate), 2*f.cfg.FrameRate)
	bytes := rate.NewLimiter(rate.Limit(f.cfg.ByteRate), 2*f.cfg.ByteRate)
	done := make(chan struct{})
	go func() { // server → player, owned by this connection
		defer close(done)
		err := copyFrames(ctx, server, player, nil, f.bytes.WithLabelValues("down"))
		passClose(player, err)
		cancel()
	}()
	err := copyFrames(ctx, player, server, func(n int) bool {
		now := time.Now()
		return frames.AllowN(now, 1) && bytes.AllowN(now, n)
	}, f.bytes.WithLabelValues("up"))
	if errors.Is(err, errRateLimited) {
		f.refused.WithLabelValues("rate_limited").Inc()
		_ = player.Close(closeRateLimited, "rate_limited")
		err = websocket.CloseError{Code: websocket.StatusGoingAway, Reason: "player_rate_limited"}
	}
	passClose(server, err)
	cancel()
	<-done
}

var errRateLimited = errors.New("rate limited")

// copyFrames copies src's frames to dst until an error; allow, when set,
// admits each frame by size.
func copyFrames(ctx context.Context, src, dst *websocket.Conn, allow func(int) bool, counter prometheus.Counter) error {
	for {
		typ, data, err := src.Read(ctx)
		if err != nil {
			return err
		}
		if allow != nil && !allow(len(data)) {
			return errRateLimited
		}
		wctx, cancel := context.WithTimeout(ctx, writeTimeout)
		err = dst.Write(wctx, typ, data)
		cancel()
		if err != nil {
			return err
		}
		counter.Add(float64(len(data)))
	}
}

// passClose closes ws with the close code and reason of err, if err is a
// close; otherwise with "going away".
func passClose(ws *websocket.Conn, err error) {
	var ce websocket.CloseError
	if errors.As(err, &ce) {
		_ = ws.Close(ce.Code, ce.Reason)
		return
	}
	_ = ws.Close(websocket.StatusGoingAway, "peer_gone")
}
