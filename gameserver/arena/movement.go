package arena

import (
	"fmt"
	"math"
)

// Movement is the player movement rule, shared by the server and by
// client-side prediction: Move is a pure function of position and input.
type Movement struct {
	step     float64 // distance per tick at full input
	tickRate float64
	radius   float64
	min, max Vec2   // bounds of the player's center
	walls    []Rect // obstacles grown by the player radius
}

// NewMovement builds the movement rule of cfg (after defaults).
func NewMovement(cfg Config) (Movement, error) {
	if err := cfg.Validate(); err != nil {
		return Movement{}, fmt.Errorf("movement: %w", err)
	}
	return newMovement(cfg.WithDefaults()), nil
}

// newMovement trusts cfg to be defaulted and range-checked.
func newMovement(cfg Config) Movement {
	m := Movement{
		step:     cfg.MaxSpeed / float64(cfg.TickRate),
		tickRate: float64(cfg.TickRate),
		radius:   cfg.PlayerRadius,
		min:      Vec2{cfg.PlayerRadius, cfg.PlayerRadius},
		max:      Vec2{cfg.Width - cfg.PlayerRadius, cfg.Height - cfg.PlayerRadius},
		walls:    make([]Rect, len(cfg.Obstacles)),
	}
	for i, o := range cfg.Obstacles {
		m.walls[i] = o.expand(cfg.PlayerRadius)
	}
	return m
}

// Move returns where a player at pos ends up after one tick of in. The
// player is an axis-aligned square of half-size PlayerRadius; it moves along
// X then Y, stopping flush against walls and bounds (a swept test, so no
// speed tunnels through an obstacle). Obstacles the player already overlaps
// are ignored, so a position rounded into a wall by quantization walks out
// smoothly instead of being shoved.
func (m *Movement) Move(pos Vec2, in Input) Vec2 {
	mx := float64(DequantizeMove(QuantizeMove(in.MoveX)))
	my := float64(DequantizeMove(QuantizeMove(in.MoveY)))
	if l2 := mx*mx + my*my; l2 > 1 {
		l := math.Sqrt(l2)
		mx, my = mx/l, my/l
	}

	x := pos.X
	switch {
	case mx > 0:
		limit := m.max.X
		for _, w := range m.walls {
			if w.Min.Y < pos.Y && pos.Y < w.Max.Y && w.Min.X >= pos.X && w.Min.X < limit {
				limit = w.Min.X
			}
		}
		x = math.Min(pos.X+mx*m.step, limit)
	case mx < 0:
		limit := m.min.X
		for _, w := range m.walls {
			if w.Min.Y < pos.Y && pos.Y < w.Max.Y && w.Max.X <= pos.X && w.Max.X > limit {
				limit = w.Max.X
			}
		}
		x = math.Max(pos.X+mx*m.step, limit)
	}
	x = clamp(x, m.min.X, m.max.X)

	y := pos.Y
	switch {
	case my > 0:
		limit := m.max.Y
		for _, w := range m.walls {
			if w.Min.X < x && x < w.Max.X && w.Min.Y >= pos.Y && w.Min.Y < limit {
				limit = w.Min.Y
			}
		}
		y = math.Min(pos.Y+my*m.step, limit)
	case my < 0:
		limit := m.min.Y
		for _, w := range m.walls {
			if w.Min.X < x && x < w.Max.X && w.Max.Y <= pos.Y && w.Max.Y > limit {
				limit = w.Max.Y
			}
		}
		y = math.Max(pos.Y+my*m.step, limit)
	}
	y = clamp(y, m.min.Y, m.max.Y)
	return Vec2{x, y}
}

// Settle returns p inside the world and out of any wall it overlaps, pushed
// along the axis of least penetration. Server positions never overlap a
// wall, but a position quantized for the wire can, by up to half a quantum;
// replaying moves from there would walk into the wall, so clients settle
// authoritative positions first. A position flush against a wall settles
// back onto exactly the server's value.
func (m *Movement) Settle(p Vec2) Vec2 {
	p = Vec2{clamp(p.X, m.min.X, m.max.X), clamp(p.Y, m.min.Y, m.max.Y)}
	for _, w := range m.walls {
		if !w.containsStrict(p) {
			continue
		}
		left, right, below, above := p.X-w.Min.X, w.Max.X-p.X, p.Y-w.Min.Y, w.Max.Y-p.Y
		switch math.Min(math.Min(left, right), math.Min(below, above)) {
		case left:
			p.X = w.Min.X
		case right:
			p.X = w.Max.X
		case below:
			p.Y = w.Min.Y
		default:
			p.Y = w.Max.Y
		}
	}
	return p
}

// Velocity is the velocity (units/s) of a one-tick move from a to b.
func (m *Movement) Velocity(a, b Vec2) Vec2 { return b.Sub(a).Scale(m.tickRate) }

// MaxStep is the farthest a player moves in one tick.
func (m *Movement) MaxStep() float64 { return m.step }

// Blocked reports whether a player centered at p would overlap an obstacle
// or stick out of the world.
func (m *Movement) Blocked(p Vec2) bool {
	if p.X < m.min.X || p.X > m.max.X || p.Y < m.min.Y || p.Y > m.max.Y {
		return true
	}
	for _, w := range m.walls {
		if w.containsStrict(p) {
			return true
		}
	}
	return false
}

// spawnGridCells is the resolution of the fallback spawn search: fine enough
// to find any gap wider than 1/64 of the world.
const spawnGridCells = 64

// freeGridPoint scans a grid for an unblocked point, row by row, so the
// result is deterministic; spawning falls back to it.
func (m *Movement) freeGridPoint() (Vec2, bool) {
	for j := 0; j <= spawnGridCells; j++ {
		for i := 0; i <= spawnGridCells; i++ {
			p := Vec2{
				m.min.X + (m.max.X-m.min.X)*float64(i)/spawnGridCells,
				m.min.Y + (m.max.Y-m.min.Y)*float64(j)/spawnGridCells,
			}
			if !m.Blocked(p) {
				return p, true
			}
		}
	}
	return Vec2{}, false
}

func clamp(v, lo, hi float64) float64 {
	if v < lo {
		return lo
	}
	if v > hi {
		return hi
	}
	return v
}

func (m *Movement) hasFreePoint() bool {
	_, ok := m.freeGridPoint()
	return ok
}
