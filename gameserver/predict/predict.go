// Package predict owns client-side prediction and server reconciliation for the arena: a client moves its own player at once with the server's movement rule, and re-bases on every snapshot.
package predict

import (
	"errors"
	"fmt"
	"math"

	"github.com/atollgg/atoll/gameserver/arena"
	"github.com/atollgg/atoll/gameserver/netcode"
)

// MaxPending bounds unacknowledged inputs: ~4 s at 30 Hz (2 s at 60 Hz). A
// server that has acknowledged nothing for that long is unreachable, and
// replaying more would only stretch the correction.
const MaxPending = 128

// MispredictTolerance is the error below which a reconciliation does not
// count as a misprediction: the base the client replays from and the
// position it is compared with are both quantized to 1/netcode.PositionScale,
// each off by up to √2/32 ≈ 0.044 units.
const MispredictTolerance = 0.09

// ErrPendingFull means MaxPending inputs are unacknowledged; the client
// should treat the connection as stalled instead of predicting further.
var ErrPendingFull = errors.New("predict: too many unacknowledged inputs")

type pending struct {
	in  arena.Input
	pos arena.Vec2 // predicted position after applying in
}

// Stats measure prediction quality.
type Stats struct {
	// Reconciliations counts snapshots that acknowledged new inputs while
	// the player stayed alive, i.e. those whose error is measured.
	Reconciliations uint64
	// Mispredictions counts those with an error above MispredictTolerance.
	Mispredictions uint64
	// LastError, MaxError and SumError are the distance (units) between
	// where the client predicted it was after the acknowledged input and
	// where the server says it was.
	LastError, MaxError, SumError float64
	// MaxCorrection is the largest jump of the displayed position caused by
	// re-basing and replaying.
	MaxCorrection float64
}

// MeanError is the average measured error.
func (s Stats) MeanError() float64 {
	if s.Reconciliations == 0 {
		return 0
	}
	return s.SumError / float64(s.Reconciliations)
}

// Predictor predicts one client's own player. It numbers inputs (Seq 1, 2,
// …), so the client sends exactly what it predicted. Not safe for concurrent
// use; one per connection.
type Predictor struct {
	move    arena.Movement
	pending []pending // oldest first
	nextSeq uint32

	pos      arena.Vec2
	alive    bool
	hasState bool
	lastTick uint32
	lastAck  uint32
	deaths   int32

	stats Stats
}

// New returns a predictor for a match with cfg (as received in Welcome).
func New(cfg arena.Config) (*Predictor, error) {
	m, err := arena.NewMovement(cfg)
	if err != nil {
		return nil, fmt.Errorf("predict: %w", err)
	}
	return &Predictor{move: m, nextSeq: 1, pending: make([]pending, 0, MaxPending)}, nil
}

// Reset forgets everything, for a new connection (sequence numbers restart
// at 1, as the World expects on reconnect). Stats are kept.
func (p *Predictor) Reset() {
	*p = Predictor{move: p.move, nextSeq: 1, pending: p.pending[:0], stats: p.stats}
}

// Apply numbers in, predicts its movement and returns the input to send. In
// is quantized first, so the prediction uses exactly what the server will.
// Before the first snapshot, or while dead, the player does not move.
func (p *Predictor) Apply(in arena.Input) (arena.Input, error) {
	if len(p.pending) >= MaxPending {
		return arena.Input{}, ErrPendingFull
	}
	in = in.Quantized()
	in.Seq = p.nextSeq
	p.nextSeq++
	if p.hasState && p.alive {
		p.pos = p.move.Move(p.pos, in)
	}
	p.pending = append(p.pending, pending{in: in, pos: p.pos})
	return in, nil
}

// Unacked appends up to n of the newest unacknowledged inputs to dst,
// oldest first: what an input frame should carry to survive packet loss.
func (p *Predictor) Unacked(dst []arena.Input, n int) []arena.Input {
	from := max(0, len(p.pending)-n)
	for _, e := range p.pending[from:] {
		dst = append(dst, e.in)
	}
	return dst
}

// Pending is the number of unacknowledged inputs.
func (p *Predictor) Pending() int { return len(p.pending) }

// Position is the predicted position of the player now.
func (p *Predictor) Position() arena.Vec2 { return p.pos }

// Alive reports whether the player was alive in the newest snapshot.
func (p *Predictor) Alive() bool { return p.alive }

// Stats returns the prediction quality so far.
func (p *Predictor) Stats() Stats { return p.stats }

// ReconcileSnapshot re-bases on snapshot s for player self. Snapshots not
// newer than the last one are ignored; so is a snapshot without self.
func (p *Predictor) ReconcileSnapshot(s *netcode.Snapshot, self arena.PlayerID) {
	if s == nil || p.hasState && s.Tick <= p.lastTick {
		return
	}
	me, ok := s.Player(self)
	if !ok {
		return
	}
	p.lastTick = s.Tick
	p.Reconcile(s.AckSeq, me.Pos(), me.Alive(), me.Deaths)
}

// Reconcile re-bases on authoritative state: ack is the last input the
// server processed, auth and alive the player's state after it, deaths its
// death count (a change means a respawn teleport, which is not an error).
// Inputs up to ack are dropped; the rest are replayed from auth.
func (p *Predictor) Reconcile(ack uint32, auth arena.Vec2, alive bool, deaths int32) {
	if p.hasState && ack < p.lastAck {
		return // reordered: an older view of our inputs
	}
	auth = p.move.Settle(auth)
	var predicted arena.Vec2
	found, drop := false, 0
	for drop < len(p.pending) && p.pending[drop].in.Seq <= ack {
		if p.pending[drop].in.Seq == ack {
			predicted, found = p.pending[drop].pos, true
		}
		drop++
	}
	p.pending = append(p.pending[:0], p.pending[drop:]...)

	continuous := p.hasState && p.alive && alive && deaths == p.deaths
	if continuous && found {
		err := predicted.Dist(auth)
		s := &p.stats
		s.Reconciliations++
		s.LastError = err
		s.SumError += err
		s.MaxError = math.Max(s.MaxError, err)
		if err > MispredictTolerance {
			s.Mispredictions++
		}
	}

	before := p.pos
	p.pos, p.alive, p.deaths, p.lastAck, p.hasState = auth, alive, deaths, ack, true
	for i := range p.pending {
		if alive {
			p.pos = p.move.Move(p.pos, p.pending[i].in)
		}
		p.pending[i].pos = p.pos
	}
	if continuous {
		p.stats.MaxCorrection = math.Max(p.stats.MaxCorrection, before.Dist(p.pos))
	}
}
