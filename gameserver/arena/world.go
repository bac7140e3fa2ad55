package arena

import (
	"errors"
	"fmt"
	"math/rand/v2"
)

// PlayerID is a seat index in [0, MaxPlayers).
type PlayerID uint8

// NoPlayer marks "nobody" in events.
const NoPlayer PlayerID = 0xff

// Errors returned by the World's seat and input methods.
var (
	ErrMatchOver         = errors.New("arena: match is over")
	ErrFull              = errors.New("arena: match is full")
	ErrKicked            = errors.New("arena: account was kicked from this match")
	ErrAlreadyConnected  = errors.New("arena: account is already connected")
	ErrUnknownPlayer     = errors.New("arena: no such player")
	ErrNotConnected      = errors.New("arena: player is not connected")
	ErrUnknownViolation  = errors.New("arena: unknown violation kind")
	ErrInvalidAccountKey = fmt.Errorf("arena: account key must be 1..%d bytes", MaxAccountLen)
)

// timing holds Config durations converted to ticks once.
type timing struct {
	cooldown, lifetime, respawn, timeLimit, grace uint32
	lead, age, rewind                             uint32
	forgive                                       int64
	kickScore                                     int64
}

type player struct {
	used, connected bool
	account         string

	pos, vel    Vec2
	aim         Angle
	health      int
	alive       bool
	respawnTick uint32

	score, kills, deaths int
	ticksPlayed          uint32

	lastSeq     uint32 // last processed input
	moveBudget  int    // ticks of movement the player may still apply
	fireCredit  uint32 // ticks of cooldown banked, capped at two shots
	lastFireSeq uint32
	hasFired    bool

	violScore      int64 // decaying weight of recent violations
	counts         ViolationCounts
	disconnectTick uint32
}

type projectile struct {
	id        uint32
	owner     PlayerID
	origin    Vec2
	pos       Vec2
	vel, step Vec2
	spawnTick uint32
	age       uint32
	rewind    uint32 // ticks of lag compensation, ≤ rewindTicks
}

// World is one match, driven by one goroutine (the match loop), which calls
// ApplyInput as client inputs arrive, Step once per tick, and drains events
// and violations for telemetry. It is not safe for concurrent use.
//
// A World never reads the clock or iterates a map, and spawns come from a
// PRNG seeded by Config.Seed, so two worlds fed the same calls in the same
// order reach bit-identical states (StateHash) — on the same architecture:
// Go may fuse floating-point multiply-adds differently on others.
// Movement is a pure function (Movement.Move) shared with client-side
// prediction, so a client replaying its inputs lands where the server did.
type World struct {
	cfg  Config
	t    timing
	move Movement
	pcg  *rand.PCG
	rng  *rand.Rand

	tick      uint32
	over      bool
	endReason EndReason
	winner    PlayerID

	players     [MaxPlayers]player
	projectiles []projectile
	nextProjID  uint32
	hist        history
	projWalls   []Rect // obstacles grown by the projectile radius
	spawnFall   Vec2   // deterministic spawn when random candidates all fail

	events            []Event
	eventsDropped     uint64
	violations        []Violation
	violationsDropped uint64

	departed []Result
	kicked   map[string]bool // lookups only, never iterated
}

// New starts a match at tick 0 with no players.
func New(cfg Config) (*World, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("new world: %w", err)
	}
	cfg = cfg.WithDefaults()
	forgive := int64(cfg.DurationTicks(cfg.ViolationForgiveness))
	w := &World{
		cfg: cfg,
		t: timing{
			cooldown:  cfg.DurationTicks(cfg.FireCooldown),
			lifetime:  cfg.DurationTicks(cfg.ProjectileLifetime),
			respawn:   cfg.DurationTicks(cfg.RespawnDelay),
			timeLimit: cfg.DurationTicks(cfg.TimeLimit),
			grace:     cfg.DurationTicks(cfg.ReconnectGrace),
			lead:      cfg.DurationTicks(cfg.MaxInputLead),
			age:       cfg.DurationTicks(cfg.MaxInputAge),
			rewind:    rewindTicks(cfg.TickRate),
			forgive:   forgive,
			kickScore: int64(cfg.KickThreshold) * forgive,
		},
		move:   newMovement(cfg),
		pcg:    rand.NewPCG(cfg.Seed, cfg.Seed^0x9e3779b97f4a7c15),
		winner: NoPlayer,
		hist:   newHistory(cfg.TickRate),
		kicked: make(map[string]bool),
	}
	w.rng = rand.New(w.pcg)
	w.spawnFall, _ = w.move.freeGridPoint() // Validate guaranteed one exists
	w.projectiles = make([]projectile, 0, 64)
	for _, o := range cfg.Obstacles {
		w.projWalls = append(w.projWalls, o.expand(cfg.ProjectileRadius))
	}
	w.hist.record(0, &w.players)
	return w, nil
}

// Config returns the match configuration with defaults applied.
func (w *World) Config() Config {
	c := w.cfg
	c.Obstacles = append([]Rect{}, c.Obstacles...)
	return c
}

// Movement returns the movement rule clients must predict with.
func (w *World) Movement() Movement { return w.move }

// Tick is the number of completed Steps.
func (w *World) Tick() uint32 { return w.tick }

// Over reports whether the match has ended, and why.
func (w *World) Over() (bool, EndReason) { return w.over, w.endReason }

// TicksLeft is the number of ticks until the time limit, 0 once over.
func (w *World) TicksLeft() uint32 {
	if w.over || w.tick >= w.t.timeLimit {
		return 0
	}
	return w.t.timeLimit - w.tick
}

// AddPlayer seats account (an opaque, stable key such as an account ID). An
// account whose slot is still within ReconnectGrace resumes it: same ID,
// score and stats, with a fresh input sequence starting at 1.
func (w *World) AddPlayer(account string) (PlayerID, error) {
	if w.over {
		return NoPlayer, ErrMatchOver
	}
	if account == "" || len(account) > MaxAccountLen {
		return NoPlayer, ErrInvalidAccountKey
	}
	if w.kicked[account] {
		return NoPlayer, ErrKicked
	}
	used, free := 0, -1
	for i := range w.players {
		p := &w.players[i]
		if !p.used {
			if free < 0 {
				free = i
			}
			continue
		}
		used++
		if p.account != account {
			continue
		}
		if p.connected {
			return NoPlayer, ErrAlreadyConnected
		}
		p.connected = true
		w.resetConnection(p)
		w.spawn(PlayerID(i))
		w.emit(Event{Kind: EventJoin, Tick: w.tick, Player: PlayerID(i), Other: NoPlayer})
		return PlayerID(i), nil
	}
	if used >= w.cfg.MaxPlayers || free < 0 {
		return NoPlayer, ErrFull
	}
	id := PlayerID(free)
	w.players[id] = player{used: true, connected: true, account: account}
	w.resetConnection(&w.players[id])
	w.spawn(id)
	w.emit(Event{Kind: EventJoin, Tick: w.tick, Player: id, Other: NoPlayer})
	return id, nil
}

// resetConnection starts a connection's input bookkeeping afresh; violation
// history survives so reconnecting does not launder it.
func (w *World) resetConnection(p *player) {
	p.lastSeq = 0
	p.moveBudget = w.cfg.InputBurst
	p.fireCredit = 2 * w.t.cooldown
	p.hasFired = false
}

// RemovePlayer disconnects id. The player leaves the field at once, but the
// slot, score and stats stay for ReconnectGrace; after that they move to
// Results' departed entries and the seat frees up.
func (w *World) RemovePlayer(id PlayerID) error {
	p, err := w.seat(id)
	if err != nil {
		return err
	}
	if !p.connected {
		return ErrNotConnected
	}
	p.connected, p.alive, p.vel = false, false, Vec2{}
	p.disconnectTick = w.tick
	w.emit(Event{Kind: EventLeave, Tick: w.tick, Player: id, Other: NoPlayer})
	return nil
}

// Kick removes id for good: its results are kept, but the account cannot
// rejoin this match. The World kicks on its own when violations pile up;
// either way it emits EventKick and frees the seat at once, so the
// transport must stop using the connection's PlayerID.
func (w *World) Kick(id PlayerID) error {
	if _, err := w.seat(id); err != nil {
		return err
	}
	w.kick(id)
	return nil
}

func (w *World) kick(id PlayerID) {
	p := &w.players[id]
	w.kicked[p.account] = true
	w.emit(Event{Kind: EventKick, Tick: w.tick, Player: id, Other: NoPlayer})
	w.depart(id, true)
}

// depart moves a seat's stats to the departed results and frees the seat,
// taking its projectiles with it so no kill is ever credited to a new
// occupant.
func (w *World) depart(id PlayerID, kicked bool) {
	p := &w.players[id]
	r := w.result(id)
	r.Connected, r.Kicked = false, kicked
	w.departed = append(w.departed, r)
	*p = player{}
	kept := w.projectiles[:0]
	for _, pr := range w.projectiles {
		if pr.owner != id {
			kept = append(kept, pr)
		}
	}
	w.projectiles = kept
}

func (w *World) seat(id PlayerID) (*player, error) {
	if int(id) >= MaxPlayers || !w.players[id].used {
		return nil, ErrUnknownPlayer
	}
	return &w.players[id], nil
}

// ApplyInput applies one input of a connected player immediately. Inputs are
// applied at most once and in order: a Seq at or below the last processed
// one is a duplicate. Anti-cheat checks record Violations (and may kick);
// they are reported through the outcome, not the error, which is only for
// an unknown or disconnected player or a finished match.
func (w *World) ApplyInput(id PlayerID, in Input) (InputOutcome, error) {
	p, err := w.seat(id)
	if err != nil {
		return 0, err
	}
	if !p.connected {
		return 0, ErrNotConnected
	}
	if w.over {
		return 0, ErrMatchOver
	}
	if in.Seq <= p.lastSeq {
		return InputDuplicate, nil
	}
	p.lastSeq = in.Seq // even a rejected input is consumed, so redundant copies do not count twice

	switch {
	case !in.wellFormed():
		w.violate(id, ViolationMalformed, in.Seq)
		return InputRejected, nil
	case in.Tick > w.tick && in.Tick-w.tick > w.t.lead:
		w.violate(id, ViolationFutureInput, in.Seq)
		return InputRejected, nil
	case in.Tick < w.tick && w.tick-in.Tick > w.t.age:
		w.violate(id, ViolationStaleInput, in.Seq)
		return InputRejected, nil
	}

	in = in.Quantized()
	p.aim = AngleFromRadians(float64(in.Aim))
	if p.moveBudget <= 0 {
		// More inputs than ticks: the client runs fast. Drop the movement
		// (and any shot) of the excess input.
		w.violate(id, ViolationSpeed, in.Seq)
		return InputPartial, nil
	}
	p.moveBudget--
	if !p.alive {
		return InputApplied, nil
	}

	outcome := InputApplied
	if in.overSpeed() {
		outcome = InputPartial // Move clamps the vector to length one
		if w.violate(id, ViolationSpeed, in.Seq) {
			return outcome, nil
		}
	}
	next := w.move.Move(p.pos, in)
	p.vel = w.move.Velocity(p.pos, next)
	p.pos = next

	if in.Fire && !w.fire(id, in) {
		outcome = InputPartial
		w.violate(id, ViolationFireRate, in.Seq)
	}
	return outcome, nil
}

// LastProcessedSeq is the newest input Seq the World consumed for id on its
// current connection; snapshots acknowledge it to the client.
func (w *World) LastProcessedSeq(id PlayerID) uint32 {
	if int(id) >= MaxPlayers {
		return 0
	}
	return w.players[id].lastSeq
}

// ReportViolation records a violation the transport detected (input floods,
// undecodable frames); like any violation it may kick the player.
func (w *World) ReportViolation(id PlayerID, kind ViolationKind) error {
	if !kind.Valid() {
		return ErrUnknownViolation
	}
	p, err := w.seat(id)
	if err != nil {
		return err
	}
	if !p.connected {
		return ErrNotConnected
	}
	w.violate(id, kind, 0)
	return nil
}

// violate counts a violation and reports whether it got the player kicked.
func (w *World) violate(id PlayerID, kind ViolationKind, seq uint32) bool {
	p := &w.players[id]
	p.counts[kind]++
	p.violScore += w.t.forgive
	if len(w.violations) < maxPendingViolations {
		w.violations = append(w.violations, Violation{Player: id, Kind: kind, Tick: w.tick, Seq: seq})
	} else {
		w.violationsDropped++
	}
	if p.violScore >= w.t.kickScore {
		w.kick(id)
		return true
	}
	return false
}

// Violations returns id's violation totals on its current seat.
func (w *World) Violations(id PlayerID) ViolationCounts {
	if int(id) >= MaxPlayers {
		return ViolationCounts{}
	}
	return w.players[id].counts
}

// DrainViolations appends the violations recorded since the last drain to
// dst, plus how many were dropped because the queue was full.
func (w *World) DrainViolations(dst []Violation) ([]Violation, uint64) {
	dst = append(dst, w.violations...)
	dropped := w.violationsDropped
	w.violations, w.violationsDropped = w.violations[:0], 0
	return dst, dropped
}

// DrainEvents appends the events since the last drain to dst, plus how many
// were dropped because the queue was full.
func (w *World) DrainEvents(dst []Event) ([]Event, uint64) {
	dst = append(dst, w.events...)
	dropped := w.eventsDropped
	w.events, w.eventsDropped = w.events[:0], 0
	return dst, dropped
}

func (w *World) emit(e Event) {
	if len(w.events) < maxPendingEvents {
		w.events = append(w.events, e)
	} else {
		w.eventsDropped++
	}
}

// Step advances the match one tick: projectiles fly and hit, the dead
// respawn, budgets refill, expired reconnect slots free up, and the match
// ends when a limit is reached. Stepping a finished match does nothing.
func (w *World) Step() {
	if w.over {
		return
	}
	next := w.tick + 1
	w.stepProjectiles(next)
	for i := range w.players {
		p := &w.players[i]
		if !p.used {
			continue
		}
		if !p.connected {
			if next-p.disconnectTick >= w.t.grace {
				w.depart(PlayerID(i), false)
			}
			continue
		}
		p.ticksPlayed++
		if !p.alive && next >= p.respawnTick {
			w.spawn(PlayerID(i))
		}
		if p.moveBudget < w.cfg.InputBurst {
			p.moveBudget++
		}
		if p.fireCredit < 2*w.t.cooldown {
			p.fireCredit++
		}
		if p.violScore > 0 {
			p.violScore--
		}
	}
	w.tick = next
	w.hist.record(next, &w.players)
	w.checkEnd()
}

func (w *World) checkEnd() {
	best := NoPlayer
	for i := range w.players {
		p := &w.players[i]
		if p.used && (best == NoPlayer || w.ranksAbove(p, &w.players[best])) {
			best = PlayerID(i)
		}
	}
	switch {
	case best != NoPlayer && w.players[best].score >= w.cfg.ScoreLimit:
		w.endReason = EndScoreLimit
	case w.tick >= w.t.timeLimit:
		w.endReason = EndTimeLimit
	default:
		return
	}
	w.over, w.winner = true, best
	w.emit(Event{Kind: EventMatchEnd, Tick: w.tick, Player: best, Other: NoPlayer, Reason: w.endReason})
}

// ranksAbove orders the scoreboard: score, then kills, then fewer deaths;
// callers iterate by ascending ID, so ties go to the lower seat.
func (w *World) ranksAbove(a, b *player) bool {
	if a.score != b.score {
		return a.score > b.score
	}
	if a.kills != b.kills {
		return a.kills > b.kills
	}
	return a.deaths < b.deaths
}

// Winner is the top of the scoreboard once the match is over.
func (w *World) Winner() PlayerID { return w.winner }
