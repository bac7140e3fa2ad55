// Package bot owns a deterministic bot brain for the arena: from a client's latest snapshot it produces that client's next Input.
package bot

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/atollgg/atoll/gameserver/arena"
	"github.com/atollgg/atoll/gameserver/netcode"
)

// Tuning. Each is a behaviour knob, chosen by watching bots play the default
// arena; none affects correctness.
const (
	// preferredRangeFrac: hold the nearest enemy at this fraction of the
	// weapon's range — close enough to hit, far enough to dodge.
	preferredRangeFrac = 0.4
	// fireRangeFrac: only shoot within this fraction of the range, since a
	// projectile near the end of its life rarely lands.
	fireRangeFrac = 0.8
	// strafeWeight blends sideways motion into approach and retreat.
	strafeWeight = 0.5
	// strafeFlipOdds: 1-in-N chance per tick to reverse the strafe, so bots
	// are not trivially predictable (~1.5 s at 30 Hz).
	strafeFlipOdds = 45
	// aimJitter is the standard deviation (radians) of aim error.
	aimJitter = 0.04
	// wallAvoidDist: walls closer than this (units) push the bot away.
	wallAvoidDist = 2.0
	// stuckTicks of barely moving while trying to move trigger a detour of
	// detourTicks in a random direction.
	stuckTicks  = 8
	detourTicks = 15
)

// Bot drives one player. It numbers its inputs from 1, like a Predictor, so
// the two agree when used together; Reset both on reconnect. Not safe for
// concurrent use.
type Bot struct {
	self     arena.PlayerID
	move     arena.Movement
	walls    []arena.Rect // obstacles grown by the projectile radius
	bounds   arena.Vec2
	radius   float64
	projR    float64
	speed    float64 // projectile speed
	rng      *rand.Rand
	cooldown uint32
	prefer   float64
	fireDist float64

	seq         uint32
	lastFireSeq uint32
	hasFired    bool
	aim         float32
	strafe      float64
	waypoint    arena.Vec2
	hasWaypoint bool
	lastPos     arena.Vec2
	hasLastPos  bool
	stuck       int
	detour      int
	detourDir   arena.Vec2
}

// New returns a bot for player self in a match with cfg, deterministic for
// a given seed and sequence of views.
func New(cfg arena.Config, self arena.PlayerID, seed uint64) (*Bot, error) {
	move, err := arena.NewMovement(cfg)
	if err != nil {
		return nil, fmt.Errorf("bot: %w", err)
	}
	cfg = cfg.WithDefaults()
	weaponRange := cfg.ProjectileSpeed * cfg.ProjectileLifetime.Seconds()
	b := &Bot{
		self:     self,
		move:     move,
		bounds:   arena.Vec2{X: cfg.Width, Y: cfg.Height},
		radius:   cfg.PlayerRadius,
		projR:    cfg.ProjectileRadius,
		speed:    cfg.ProjectileSpeed,
		rng:      rand.New(rand.NewPCG(seed, uint64(self))),
		cooldown: cfg.DurationTicks(cfg.FireCooldown),
		prefer:   weaponRange * preferredRangeFrac,
		fireDist: weaponRange * fireRangeFrac,
		strafe:   1,
	}
	for _, o := range cfg.Obstacles {
		b.walls = append(b.walls, arena.Rect{
			Min: arena.Vec2{X: o.Min.X - b.projR, Y: o.Min.Y - b.projR},
			Max: arena.Vec2{X: o.Max.X + b.projR, Y: o.Max.Y + b.projR},
		})
	}
	return b, nil
}

// Reset restarts input numbering, for a new connection.
func (b *Bot) Reset() {
	b.seq, b.hasFired, b.hasLastPos, b.stuck, b.detour = 0, false, false, 0, 0
}

// Next decides the next input from view, placing the bot where view says.
func (b *Bot) Next(view *netcode.Snapshot) arena.Input {
	if view != nil {
		if me, ok := view.Player(b.self); ok {
			return b.NextAt(view, me.Pos())
		}
	}
	return b.NextAt(view, arena.Vec2{})
}

// NextAt decides the next input from view with the bot at pos — for a
// networked bot, its predicted position, which is fresher than the view's.
// A nil view (no snapshot yet) yields an idle input.
func (b *Bot) NextAt(view *netcode.Snapshot, pos arena.Vec2) arena.Input {
	b.seq++
	in := arena.Input{Seq: b.seq, Aim: b.aim}
	if view == nil {
		return in // nothing seen yet: stand still, keep numbering
	}
	in.Tick = view.Tick
	me, ok := view.Player(b.self)
	if !ok || !me.Alive() {
		b.hasLastPos, b.stuck, b.detour = false, 0, 0
		return in
	}

	var want arena.Vec2
	if t := b.nearestEnemy(view, pos); t != nil {
		tp := t.Pos()
		d := tp.Sub(pos)
		dist := d.Len()
		dir := arena.Vec2{X: 1}
		if dist > 0 {
			dir = d.Scale(1 / dist)
		}
		side := arena.Vec2{X: -dir.Y, Y: dir.X}.Scale(b.strafe)
		switch {
		case dist > b.prefer*1.25:
			want = dir.Add(side.Scale(strafeWeight))
		case dist < b.prefer*0.75:
			want = dir.Scale(-1).Add(side.Scale(strafeWeight))
		default:
			want = side
		}
		if b.rng.IntN(strafeFlipOdds) == 0 {
			b.strafe = -b.strafe
		}
		aimAt := b.lead(pos, tp, t.Vel())
		b.aim = float32(math.Atan2(aimAt.Y-pos.Y, aimAt.X-pos.X) + b.rng.NormFloat64()*aimJitter)
		in.Aim = b.aim
		if dist <= b.fireDist && b.ready() && b.clearShot(pos, tp) {
			in.Fire = true
			b.lastFireSeq, b.hasFired = b.seq, true
		}
	} else {
		if !b.hasWaypoint || pos.Dist(b.waypoint) < 1 {
			b.waypoint = arena.Vec2{X: b.rng.Float64() * b.bounds.X, Y: b.rng.Float64() * b.bounds.Y}
			b.hasWaypoint = true
		}
		want = b.waypoint.Sub(pos)
	}
	want = normalize(want).Add(b.avoidWalls(pos))

	// Unstick: pushing into a wall for a while earns a random detour.
	if b.detour > 0 {
		b.detour--
		want = b.detourDir
	} else if b.hasLastPos && pos.Dist(b.lastPos) < 0.25*b.move.MaxStep() {
		if b.stuck++; b.stuck >= stuckTicks {
			b.stuck, b.detour = 0, detourTicks
			b.detourDir = arena.AngleFromRadians(b.rng.Float64() * 2 * math.Pi).Dir()
		}
	} else {
		b.stuck = 0
	}
	b.lastPos, b.hasLastPos = pos, true

	want = normalize(want)
	in.MoveX, in.MoveY = float32(want.X), float32(want.Y)
	return in
}

// ready mirrors the server's cooldown rule on input sequence numbers.
func (b *Bot) ready() bool { return !b.hasFired || b.seq-b.lastFireSeq >= b.cooldown }

func (b *Bot) nearestEnemy(view *netcode.Snapshot, pos arena.Vec2) *netcode.PlayerState {
	var best *netcode.PlayerState
	bestD := math.Inf(1)
	for i := range view.Players {
		p := &view.Players[i]
		if p.ID == b.self || !p.Alive() || !p.Connected() {
			continue
		}
		if d := p.Pos().Sub(pos); d.Dot(d) < bestD {
			best, bestD = p, d.Dot(d)
		}
	}
	return best
}

// lead returns where to aim so a projectile meets a target moving at vel:
// the earliest t with |tp + vel·t − pos| = speed·t, or the target itself when
// it outruns the projectile.
func (b *Bot) lead(pos, tp, vel arena.Vec2) arena.Vec2 {
	d := tp.Sub(pos)
	a := vel.Dot(vel) - b.speed*b.speed
	bb := 2 * d.Dot(vel)
	c := d.Dot(d)
	disc := bb*bb - 4*a*c
	if a >= 0 || disc < 0 {
		return tp
	}
	t := (-bb - math.Sqrt(disc)) / (2 * a) // a < 0: this is the positive root
	if t < 0 {
		return tp
	}
	return tp.Add(vel.Scale(t))
}

func (b *Bot) clearShot(from, to arena.Vec2) bool {
	for _, w := range b.walls {
		if _, hit := arena.SegmentHitsRect(from, to, w); hit {
			return false
		}
	}
	return true
}

// avoidWalls returns a push away from obstacles and world edges closer than
// wallAvoidDist, growing as they get closer.
func (b *Bot) avoidWalls(pos arena.Vec2) arena.Vec2 {
	var push arena.Vec2
	add := func(away arena.Vec2, dist float64) {
		if dist < wallAvoidDist {
			push = push.Add(away.Scale((wallAvoidDist - dist) / wallAvoidDist))
		}
	}
	add(arena.Vec2{X: 1}, pos.X-b.radius)
	add(arena.Vec2{X: -1}, b.bounds.X-b.radius-pos.X)
	add(arena.Vec2{Y: 1}, pos.Y-b.radius)
	add(arena.Vec2{Y: -1}, b.bounds.Y-b.radius-pos.Y)
	for _, w := range b.walls {
		closest := arena.Vec2{X: math.Max(w.Min.X, math.Min(pos.X, w.Max.X)), Y: math.Max(w.Min.Y, math.Min(pos.Y, w.Max.Y))}
		d := pos.Sub(closest)
		if l := d.Len(); l > 0 {
			add(d.Scale(1/l), l-b.radius)
		}
	}
	return push
}

func normalize(v arena.Vec2) arena.Vec2 {
	if l := v.Len(); l > 1e-9 {
		return v.Scale(1 / l)
	}
	return arena.Vec2{}
}
