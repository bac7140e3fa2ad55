package server

import (
	"context"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/atollgg/atoll/gameserver/sdk"
	"github.com/coder/websocket"
)

// Limits on players' connections.
const (
	// inboxSize is the Room's message buffer: a few ticks of frames from a
	// full match; when the game falls behind, readers wait (TCP pushes
	// back on the clients) rather than pile up memory.
	inboxSize = 1024
	// sendQueueSize bounds each connection's outbound frames; a client that
	// lets 64 frames pile up (2 s of 30 Hz snapshots) is disconnected
	// rather than buffered without end.
	sendQueueSize = 64
	// writeTimeout bounds writing one frame to a client.
	writeTimeout = 5 * time.Second
)

// Close codes a client sees when the server closes its connection.
const (
	// CloseGameOver: the game ended normally.
	CloseGameOver = websocket.StatusNormalClosure
	// CloseShuttingDown: the server is stopping before the game ended.
	CloseShuttingDown = websocket.StatusGoingAway
	// CloseBadHello: the first frame was not {"token": ...}.
	CloseBadHello = websocket.StatusPolicyViolation
	// CloseNotReady: the server has no match yet; retry shortly.
	CloseNotReady = websocket.StatusTryAgainLater
	// CloseUnauthorized: the connect token is forged, malformed, expired or
	// for another server.
	CloseUnauthorized websocket.StatusCode = 4401
	// CloseForbidden: the token is genuine but for another session, or
	// its player is not in this match.
	CloseForbidden websocket.StatusCode = 4403
	// CloseReplaced: the player connected again; this connection is stale.
	CloseReplaced websocket.StatusCode = 4409
)

// Room is the game's view of the players' connections: messages in, frames
// out. Its methods are safe for concurrent use.
type Room struct {
	match   Match
	inbox   chan Message
	log     *slog.Logger
	started func(context.Context) error
	done    chan struct{} // closed by close: the game no longer reads

	telemetry *telemetryQueue

	mu     sync.Mutex // guards following
	conns  map[string]*playerConn
	closed bool
}

func newRoom(m Match, log *slog.Logger, started func(context.Context) error) *Room {
	return &Room{
		match:     m,
		inbox:     make(chan Message, inboxSize),
		log:       log,
		started:   started,
		done:      make(chan struct{}),
		telemetry: newTelemetryQueue(),
		conns:     map[string]*playerConn{},
	}
}

// Match returns the match being played.
func (r *Room) Match() Match { return r.match }

// Messages delivers joins, leaves and frames, in order per player.
func (r *Room) Messages() <-chan Message { return r.inbox }

// Started tells the cell the game has begun (the session is active).
func (r *Room) Started(ctx context.Context) error { return r.started(ctx) }

// Telemetry queues events for the cell's telemetry stream (anti-cheat
// violations, for instance); they leave in batches about once a second,
// and the rest when the game ends, before its results. It never blocks:
// events that are invalid (see sdk.TelemetryEvent.Validate), name a player
// outside the match, or find the queue full are dropped.
func (r *Room) Telemetry(events ...sdk.TelemetryEvent) {
	kept := events[:0:0]
	for i := range events {
		e := &events[i]
		if err := e.Validate(); err != nil || (e.PlayerID != "" && !r.hasPlayer(e.PlayerID)) {
			r.log.Warn("dropping invalid telemetry event", "kind", e.Kind, "err", err)
			continue
		}
		kept = append(kept, *e)
	}
	r.telemetry.add(kept)
}

func (r *Room) hasPlayer(id string) bool {
	for _, p := range r.match.Players {
		if p.ID == id {
			return true
		}
	}
	return false
}

// Connected returns the players currently connected, sorted.
func (r *Room) Connected() []string {
	r.mu.Lock()
	ids := make([]string, 0, len(r.conns))
	for id := range r.conns {
		ids = append(ids, id)
	}
	r.mu.Unlock()
	slices.Sort(ids)
	return ids
}

// Send queues a frame for one player and reports whether it was queued. A
// player whose queue is full is not reading: its connection is cut.
func (r *Room) Send(playerID string, binary bool, data []byte) bool {
	r.mu.Lock()
	c := r.conns[playerID]
	r.mu.Unlock()
	if c == nil {
		return false
	}
	return c.send(outFrame{binary: binary, data: data})
}

// Broadcast queues a frame for every connected player.
func (r *Room) Broadcast(binary bool, data []byte) {
	r.mu.Lock()
	conns := make([]*playerConn, 0, len(r.conns))
	for _, c := range r.conns {
		conns = append(conns, c)
	}
	r.mu.Unlock()
	for _, c := range conns {
		c.send(outFrame{binary: binary, data: data})
	}
}

// Kick closes a player's connection after the frames already queued.
func (r *Room) Kick(playerID string, code websocket.StatusCode, reason string) {
	r.mu.Lock()
	c := r.conns[playerID]
	r.mu.Unlock()
	if c != nil {
		c.closeAfterQueued(code, reason)
	}
}

// join registers c, replacing (and closing) an earlier connection of the
// same player. It reports false once the room is closed.
func (r *Room) join(c *playerConn) bool {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return false
	}
	old := r.conns[c.playerID]
	r.conns[c.playerID] = c
	r.mu.Unlock()
	if old != nil {
		old.closeAfterQueued(CloseReplaced, "replaced by a new connection")
	}
	return true
}

// leave unregisters c if it is still the player's connection and reports
// whether it was.
func (r *Room) leave(c *playerConn) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.conns[c.playerID] != c {
		return false
	}
	delete(r.conns, c.playerID)
	return true
}

// deliver hands a message to the game, waiting while its inbox is full,
// until ctx ends or the room closes.
func (r *Room) deliver(ctx context.Context, m Message) bool {
	select {
	case r.inbox <- m:
		return true
	case <-ctx.Done():
		return false
	case <-r.done:
		return false
	}
}

// close refuses new players and closes every connection with code after
// its queued frames.
func (r *Room) close(code websocket.StatusCode, reason string) {
	r.mu.Lock()
	if !r.closed {
		r.closed = true
		close(r.done)
	}
	conns := make([]*playerConn, 0, len(r.conns))
	for _, c := range r.conns {
		conns = append(conns, c)
	}
	r.mu.Unlock()
	for _, c := range conns {
		c.closeAfterQueued(code, reason)
	}
}

type outFrame struct {
	binary bool
	data   []byte
	// close, when set, ends the connection after the frames before it.
	close  bool
	code   websocket.StatusCode
	reason string
}

// playerConn is one authenticated player's WebSocket. Its writer goroutine
// owns all writes; the HTTP handler goroutine owns reads.
type playerConn struct {
	playerID string
	ws       *websocket.Conn
	out      chan outFrame
	closing  chan struct{} // closed once a close is queued or forced

	closeOnce sync.Once
}

func newPlayerConn(playerID string, ws *websocket.Conn) *playerConn {
	return &playerConn{
		playerID: playerID,
		ws:       ws,
		// One extra slot so a close always fits behind a full queue.
		out:     make(chan outFrame, sendQueueSize+1),
		closing: make(chan struct{}),
	}
}

func (c *playerConn) send(f outFrame) bool {
	select {
	case <-c.closing:
		return false
	default:
	}
	if len(c.out) < sendQueueSize {
		select {
		case c.out <- f:
			return true
		default:
		}
	}
	c.cut()
	return false
}

// cut drops a client that does not read: it would never see a close frame
// queued behind its backlog, so the connection is closed at once, which
// also fails the write it is stuck in.
func (c *playerConn) cut() {
	c.closeOnce.Do(func() {
		close(c.closing)
		_ = c.ws.CloseNow()
	})
}

// closeAfterQueued queues a close behind the frames already queued.
func (c *playerConn) closeAfterQueued(code websocket.StatusCode, reason string) {
	c.closeOnce.Do(func() {
		close(c.closing)
		select {
		case c.out <- outFrame{close: true, code: code, reason: reason}:
		default:
			// The queue is full even counting the spare slot: the
			// client is not reading, so skip the handshake.
			_ = c.ws.CloseNow()
		}
	})
}

// writeLoop writes queued frames until a close is queued or a write fails,
// then closes the connection; it runs until ctx ends at the latest.
func (c *playerConn) writeLoop(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			_ = c.ws.CloseNow()
			return
		case f := <-c.out:
			if f.close {
				_ = c.ws.Close(f.code, f.reason)
				return
			}
			typ := websocket.MessageText
			if f.binary {
				typ = websocket.MessageBinary
			}
			wctx, cancel := context.WithTimeout(ctx, writeTimeout)
			err := c.ws.Write(wctx, typ, f.data)
			cancel()
			if err != nil {
				_ = c.ws.CloseNow()
				return
			}
		}
	}
}
