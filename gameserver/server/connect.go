package server

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/atollgg/atoll/gameserver/sdk"
	"github.com/atollgg/atoll/internal/tokens"
	"github.com/coder/websocket"
)

// PathConnect is where players open their WebSocket:
// ws://<host>:<port>/connect.
const PathConnect = "/connect"

// helloTimeout bounds the handshake: the client must send its hello within
// it, and a server still waiting for its allocation holds the client that
// long before answering CloseNotReady. Players connect right after the
// cell allocates, which reaches the server in milliseconds.
const helloTimeout = 5 * time.Second

// maxFrameBytes bounds one client frame after the hello: game inputs are
// tiny; 16 KiB also covers JSON debug frames.
const maxFrameBytes = 16 << 10

// maxPendingConnections bounds connections that have not yet sent a valid
// hello: a match has a handful of players, each connecting once or twice,
// so 64 leaves room for reconnect storms while a flood of idle sockets
// (each a goroutine for up to helloTimeout) is refused with 503 before the
// upgrade.
const maxPendingConnections = 64

// welcome is the server's answer to a good hello.
type welcome struct {
	Type      string `json:"type"` // "welcome"
	SessionID string `json:"session_id"`
	PlayerID  string `json:"player_id"`
	Mode      string `json:"mode"`
}

// gate accepts players' WebSockets, checks their connect tokens and hands
// them to the room. Connection goroutines are tracked so Run can wait for
// them (http.Server does not track hijacked connections).
type gate struct {
	serverID string
	log      *slog.Logger
	ctx      context.Context // ends when the server stops serving players
	report   func(connected bool, playerID string)
	ready    chan struct{} // closed by allocate
	// maxPending caps connections awaiting their hello; zero means
	// maxPendingConnections.
	maxPending int

	mu       sync.Mutex // guards following
	pending  int        // connections accepted whose hello is not yet verified
	alloc    *sdk.Allocation
	verifier *tokens.Verifier
	room     *Room
	stopped  bool
	wg       sync.WaitGroup
}

// allocate arms the gate for a match: from now on it verifies tokens
// against the allocation's keys.
func (g *gate) allocate(a *sdk.Allocation, room *Room) error {
	keys, err := tokens.ParseJWKS(a.Connect.JWKS)
	if err != nil {
		return err
	}
	v, err := tokens.NewVerifier(tokens.VerifierConfig{
		Keys: keys, Issuer: a.Connect.Issuer, Audience: g.serverID, TokenUse: tokens.TokenUseConnect,
	})
	if err != nil {
		return err
	}
	g.mu.Lock()
	g.alloc, g.verifier, g.room = a, v, room
	g.mu.Unlock()
	close(g.ready)
	return nil
}

// stop refuses new connections and waits for the current ones' goroutines,
// which end once the room has closed them or ctx has ended.
func (g *gate) stop() {
	g.mu.Lock()
	g.stopped = true
	g.mu.Unlock()
	g.wg.Wait()
}

func (g *gate) track() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.stopped {
		return false
	}
	g.wg.Add(1)
	return true
}

// reservePending counts a connection awaiting its hello, unless the cap is
// reached; the caller must call releasePending.
func (g *gate) reservePending() bool {
	limit := g.maxPending
	if limit == 0 {
		limit = maxPendingConnections
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.pending >= limit {
		return false
	}
	g.pending++
	return true
}

func (g *gate) releasePending() {
	g.mu.Lock()
	g.pending--
	g.mu.Unlock()
}

func (g *gate) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !g.track() {
		http.Error(w, "server stopping", http.StatusServiceUnavailable)
		return
	}
	defer g.wg.Done()
	if !g.reservePending() {
		w.Header().Set("Retry-After", "1")
		http.Error(w, "too many pending connections", http.StatusServiceUnavailable)
		return
	}
	released := false
	release := func() {
		if !released {
			released = true
			g.releasePending()
		}
	}
	defer release()
	// The HTTP server's deadlines would cut the WebSocket after a minute;
	// the connection's life is the game's.
	rc := http.NewResponseController(w)
	_ = rc.SetReadDeadline(time.Time{})
	_ = rc.SetWriteDeadline(time.Time{})
	// Any origin may connect: players authenticate with the token in the
	// first frame, which a foreign page cannot obtain.
	ws, err := websocket.Accept(w, r, &websocket.AcceptOptions{InsecureSkipVerify: true})
	if err != nil {
		return // Accept has answered the HTTP request
	}
	g.serve(ws, release)
}

// serve checks ws's hello and plays it; release is called once the hello is
// verified, when the connection stops counting as pending.
func (g *gate) serve(ws *websocket.Conn, release func()) {
	ws.SetReadLimit(maxHelloBytes)
	hctx, cancel := context.WithTimeout(g.ctx, helloTimeout)
	defer cancel()
	typ, data, err := ws.Read(hctx)
	if err != nil {
		_ = ws.CloseNow()
		return
	}
	token, err := decodeHello(data)
	if err != nil || typ != websocket.MessageText {
		_ = ws.Close(CloseBadHello, "bad_hello")
		return
	}
	select {
	case <-g.ready:
	case <-hctx.Done():
		_ = ws.Close(CloseNotReady, "not_allocated")
		return
	}
	g.mu.Lock()
	alloc, verifier, room := g.alloc, g.verifier, g.room
	g.mu.Unlock()
	playerID, code, reason := checkConnectToken(verifier, alloc, g.serverID, token, time.Now())
	if code != 0 {
		// Never log the token; the reason is a fixed string.
		g.log.Info("player connection refused", "reason", reason)
		_ = ws.Close(code, reason)
		return
	}
	release()
	g.play(ws, room, alloc, playerID)
}

// checkConnectToken verifies a connect token for this server's match and
// returns its player, or a close code and a fixed reason.
func checkConnectToken(v *tokens.Verifier, a *sdk.Allocation, serverID, token string, now time.Time) (string, websocket.StatusCode, string) {
	var c tokens.ConnectClaims
	err := v.VerifyInto(token, &c, now)
	switch {
	case errors.Is(err, tokens.ErrExpired):
		return "", CloseUnauthorized, "token_expired"
	case errors.Is(err, tokens.ErrKeysUnavailable):
		return "", websocket.StatusInternalError, "keys_unavailable"
	case err != nil:
		return "", CloseUnauthorized, "invalid_token"
	case c.ServerID != serverID:
		return "", CloseUnauthorized, "wrong_server"
	case c.SessionID != a.SessionID:
		return "", CloseForbidden, "wrong_session"
	case !a.HasPlayer(c.PlayerID()):
		return "", CloseForbidden, "not_in_match"
	}
	return c.PlayerID(), 0, ""
}

// play runs an authenticated player's connection until it ends.
func (g *gate) play(ws *websocket.Conn, room *Room, alloc *sdk.Allocation, playerID string) {
	c := newPlayerConn(playerID, ws)
	if !room.join(c) {
		_ = ws.Close(CloseGameOver, "game_over")
		return
	}
	ctx, cancel := context.WithCancel(g.ctx)
	writerDone := make(chan struct{})
	go func() { // owned by this connection; ends with ctx or after a close
		defer close(writerDone)
		c.writeLoop(ctx)
	}()
	hello, _ := json.Marshal(welcome{Type: "welcome", SessionID: alloc.SessionID, PlayerID: playerID, Mode: alloc.Mode})
	c.send(outFrame{data: hello})
	g.report(true, playerID)
	room.deliver(ctx, Message{Kind: Joined, PlayerID: playerID, At: time.Now()})

	ws.SetReadLimit(maxFrameBytes)
	for {
		typ, data, err := ws.Read(ctx)
		if err != nil {
			break
		}
		if !room.deliver(ctx, Message{Kind: Frame, PlayerID: playerID, Binary: typ == websocket.MessageBinary, Data: data, At: time.Now()}) {
			break
		}
	}
	if room.leave(c) {
		room.deliver(g.ctx, Message{Kind: Left, PlayerID: playerID, At: time.Now()})
		g.report(false, playerID)
	}
	// Let a queued close (game over, kick) finish its handshake; the read
	// above has already seen it, so this is quick.
	select {
	case <-writerDone:
	case <-c.closing:
		<-writerDone
	default:
		cancel()
		<-writerDone
	}
	cancel()
}
