package arenagame

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/atollgg/atoll/gameserver/arena"
	"github.com/atollgg/atoll/gameserver/netcode"
	"github.com/atollgg/atoll/gameserver/sdk"
	"github.com/atollgg/atoll/gameserver/server"
)

// maxCatchUp bounds how much overdue simulation the loop runs back to back
// after a stall (GC pause, descheduling): half a second of ticks, each fed
// the inputs that had arrived by its end, so honest clients keep their
// movement. A longer stall is skipped rather than fast-forwarded: the
// world's time falls behind the clock, and inputs of the lost time count
// as excess movement.
const maxCatchUp = 500 * time.Millisecond

// peer is one match player's connection state, kept across reconnects.
type peer struct {
	id        string
	seat      arena.PlayerID
	seated    bool // holds a seat: connected, or within the reconnect grace
	connected bool
	banned    bool // kicked: the account may not come back

	// Per connection.
	enc      netcode.Encoding
	encKnown bool // the first frame chose enc
	welcomed bool
	gate     *arena.InputGate
	sc       *netcode.ServerConn

	counts arena.ViolationCounts // over the whole match
}

// match is one game in progress, owned by the goroutine running Play.
type match struct {
	cfg       Config
	log       *slog.Logger
	room      room
	sessionID string
	w         *arena.World
	hist      *netcode.History

	peers  map[string]*peer
	bySeat [arena.MaxPlayers]*peer

	interval  time.Duration
	snapEvery uint32
	epoch     time.Time // the gate's clock starts here
	started   bool

	// held is a message drainUntil read that belongs to a later tick.
	held *server.Message

	// Scratch, reused every message and tick.
	frame  netcode.ClientFrame
	buf    []byte
	events []arena.Event // drained from the world, not yet broadcast
	viols  []arena.Violation
	telem  []sdk.TelemetryEvent

	stats matchStats
}

// matchStats are logged when the match ends.
type matchStats struct {
	ticks, skippedTicks   uint64
	framesIn, badFrames   uint64
	snapshots, bytesOut   uint64
	violations, kicks     uint64
	eventsDropped         uint64
	violationsDropped     uint64
	maxTick, totalTickDur time.Duration
}

func newMatch(cfg Config, r room) (*match, error) {
	mt := r.Match()
	ac := cfg.Arena
	if ac.Seed == 0 {
		ac.Seed = seedFor(mt.SessionID)
	}
	w, err := arena.New(ac)
	if err != nil {
		return nil, fmt.Errorf("arena game: %w", err)
	}
	return &match{
		cfg:       cfg,
		log:       cfg.Log.With("session", mt.SessionID),
		room:      r,
		sessionID: mt.SessionID,
		w:         w,
		hist:      netcode.NewHistory(),
		peers:     make(map[string]*peer, len(mt.Players)),
		interval:  tickInterval(ac.TickRate),
		snapEvery: snapshotEvery(ac.TickRate, cfg.SnapshotRate),
		epoch:     time.Now(),
	}, nil
}

// run plays the match: lobby, then the tick loop until the world is over.
func (m *match) run(ctx context.Context) (server.Outcome, error) {
	if err := m.lobby(ctx); err != nil {
		return server.Outcome{}, err
	}
	if err := m.room.Started(ctx); err != nil {
		return server.Outcome{}, fmt.Errorf("report game start: %w", err)
	}
	startedAt := time.Now()
	m.started = true
	m.log.Info("arena match started", "players", m.connectedCount(), "tick_rate", m.cfg.Arena.TickRate,
		"snapshot_every", m.snapEvery)
	m.sendSnapshots()

	start := time.Now()
	maxBatch := max(1, uint64(maxCatchUp/m.interval))
	timer := time.NewTimer(m.interval)
	defer timer.Stop()
	msgs := m.room.Messages()
	for {
		select {
		case <-ctx.Done():
			return server.Outcome{}, ctx.Err()
		case msg := <-msgs:
			m.handleInOrder(msg)
		case <-timer.C:
			if over := m.advance(&start, time.Now(), maxBatch); over {
				return m.finish(startedAt), nil
			}
			next := start.Add(time.Duration(uint64(m.w.Tick())+1) * m.interval)
			timer.Reset(time.Until(next))
		}
	}
}

// advance runs the ticks due by now on the clock that started at *start,
// at most maxBatch of them (the rest are skipped by moving *start), and
// reports whether the match is over. Each tick first takes the messages
// that arrived before it ended; a batch of overdue ticks streams once.
func (m *match) advance(start *time.Time, now time.Time, maxBatch uint64) bool {
	done := uint64(m.w.Tick())
	due := uint64(now.Sub(*start) / m.interval)
	if due > done+maxBatch {
		skip := due - done - maxBatch
		*start = start.Add(time.Duration(skip) * m.interval)
		m.stats.skippedTicks += skip
		due = done + maxBatch
	}
	batch := due - done
	for ; done < due; done++ {
		m.drainUntil(start.Add(time.Duration(done+1) * m.interval))
		if over := m.step(done+1 == due, batch > 1); over {
			return true
		}
	}
	return false
}

// handleInOrder handles msg after any message held back by drainUntil.
func (m *match) handleInOrder(msg server.Message) {
	if m.held != nil {
		held := *m.held
		m.held = nil
		m.handle(held)
	}
	m.handle(msg)
}

// drainUntil handles the queued messages that arrived before deadline,
// holding back the first one that came later.
func (m *match) drainUntil(deadline time.Time) {
	msgs := m.room.Messages()
	for {
		var msg server.Message
		if m.held != nil {
			msg = *m.held
			m.held = nil
		} else {
			select {
			case msg = <-msgs:
			default:
				return
			}
		}
		if msg.At.After(deadline) {
			m.held = &msg
			return
		}
		m.handle(msg)
	}
}

// lobby seats players as they join until all of them have, or the join
// timeout passes with at least one present.
func (m *match) lobby(ctx context.Context) error {
	want := len(m.room.Match().Players)
	timeout := time.NewTimer(m.cfg.JoinTimeout)
	defer timeout.Stop()
	msgs := m.room.Messages()
	for m.connectedCount() < want {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case msg := <-msgs:
			m.handle(msg)
		case <-timeout.C:
			if m.connectedCount() == 0 {
				return server.ErrNoPlayers
			}
			m.log.Info("starting without every player", "present", m.connectedCount(), "expected", want)
			return nil
		}
	}
	return nil
}

func (m *match) connectedCount() int {
	n := 0
	for _, p := range m.peers {
		if p.connected {
			n++
		}
	}
	return n
}

// step advances the world one tick and reports whether the match is over.
// The last tick of a batch streams snapshots and events (on snapshot ticks,
// or always after catching up); an earlier one only simulates.
func (m *match) step(last, caughtUp bool) bool {
	t0 := time.Now()
	m.w.Step()
	m.stats.ticks++
	m.collect()
	m.releaseDeparted()
	over, _ := m.w.Over()
	if over || (last && (caughtUp || m.w.Tick()%m.snapEvery == 0)) {
		m.sendSnapshots()
		m.flushEvents()
	}
	m.flushTelemetry()
	d := time.Since(t0)
	m.stats.totalTickDur += d
	m.stats.maxTick = max(m.stats.maxTick, d)
	return over
}
