package arena

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// Hard limits. Config.Validate rejects anything beyond them; the wire format
// (netcode) sizes its bounds from the same constants.
const (
	// MaxPlayers caps players in one match: IDs fit a byte on the wire and
	// lag-compensation history is a fixed array of this size.
	MaxPlayers = 64
	// MaxTickRate bounds Config.TickRate: 128 Hz is 2x the 60 Hz the server
	// must sustain, and keeps rewind history a few dozen frames long.
	MaxTickRate = 128
	// MaxProjectiles caps live projectiles so per-tick hit testing and
	// snapshot size stay bounded whatever the gameplay numbers are.
	MaxProjectiles = 1024
	// MaxObstacles bounds the obstacle list: each move tests every obstacle
	// and the Welcome frame carries them all.
	MaxObstacles = 64
	// MaxWorldSize bounds each world dimension so positions quantized to
	// 1/16 unit stay far inside int32 and the float64 math stays exact
	// enough for 1/16-unit agreement between server and client.
	MaxWorldSize = 4096
	// MaxMoveSpeed bounds Config.MaxSpeed (units/s): faster than this the
	// arena stops being a movement game, and quantized velocities stay small.
	MaxMoveSpeed = 256
	// MaxProjectileSpeed bounds Config.ProjectileSpeed (units/s): beyond it a
	// projectile is effectively hitscan and should be modelled as such.
	MaxProjectileSpeed = 1024
	// MaxHealthLimit bounds Config.MaxHealth so health fits comfortably in a
	// small varint and damage arithmetic cannot overflow.
	MaxHealthLimit = 10000
	// MaxScoreLimit bounds Config.ScoreLimit; scores travel as varints.
	MaxScoreLimit = 1_000_000
	// MaxTimeLimit bounds Config.TimeLimit: a day of ticks at MaxTickRate is
	// ~11M, far inside the uint32 tick counter.
	MaxTimeLimit = 24 * time.Hour
	// MaxReconnectGrace bounds how long a disconnected player's slot (and
	// one of the MaxPlayers seats) stays reserved.
	MaxReconnectGrace = 10 * time.Minute
	// MaxAccountLen bounds the opaque account key given to AddPlayer.
	MaxAccountLen = 128
	// MaxRewind is the furthest back lag compensation rewinds a shot: 200 ms
	// covers a regional cell's round trip plus one snapshot interval, while
	// limiting how long after reaching cover a victim can still be hit.
	MaxRewind = 200 * time.Millisecond
)

// Gameplay defaults, used for every zero field of Config.
const (
	DefaultTickRate           = 30
	DefaultWidth              = 96.0
	DefaultHeight             = 64.0
	DefaultPlayerRadius       = 0.5
	DefaultMaxSpeed           = 8.0 // units/s
	DefaultMaxHealth          = 100
	DefaultProjectileSpeed    = 40.0 // units/s
	DefaultProjectileRadius   = 0.15
	DefaultProjectileDamage   = 25
	DefaultProjectileLifetime = 750 * time.Millisecond // 30 units of range
	DefaultFireCooldown       = 250 * time.Millisecond
	DefaultRespawnDelay       = 2 * time.Second
	DefaultScoreLimit         = 25
	DefaultTimeLimit          = 5 * time.Minute
	// DefaultReconnectGrace keeps a dropped player's score long enough for a
	// client to notice a dead connection, redial and re-authenticate.
	DefaultReconnectGrace = 30 * time.Second
	// DefaultMaxInputLead tolerates clients that extrapolate a tick or so
	// past the newest snapshot; a view further ahead cannot be honest.
	DefaultMaxInputLead = 50 * time.Millisecond
	// DefaultMaxInputAge rejects inputs generated against a view more than a
	// second old: a client that far behind is replaying or cheating.
	DefaultMaxInputAge = time.Second
	// DefaultInputBurst lets up to 8 ticks of inputs that network jitter
	// clumped together be applied at once; more is a speed hack.
	DefaultInputBurst = 8
	// DefaultKickThreshold is the number of recent violations (see
	// ViolationForgiveness) that gets a player kicked.
	DefaultKickThreshold = 60
	// DefaultViolationForgiveness is how long one violation weighs on the
	// kick threshold, so a lag spike's burst of stale inputs decays away.
	DefaultViolationForgiveness = 500 * time.Millisecond
	// DefaultInputGateBudget is the input frames one connection may send per
	// DefaultInputGateWindow: two per tick at the default 30 Hz, since an
	// honest client sends one frame per tick.
	DefaultInputGateBudget = 60
	DefaultInputGateWindow = time.Second
)

// Rect is an axis-aligned rectangle, Min inclusive of the lower corner.
type Rect struct {
	Min, Max Vec2
}

// Config is the whole configuration of one match. Every zero field takes the
// Default* value above; Obstacles nil means DefaultObstacles, and an empty
// non-nil slice means an open arena.
type Config struct {
	// TickRate is simulation ticks per second.
	TickRate int
	// Seed seeds the spawn PRNG; zero is a valid seed.
	Seed uint64
	// Width and Height are the world size in units; the world spans
	// [0,Width]x[0,Height].
	Width, Height float64
	// Obstacles are solid rectangles for players and projectiles.
	Obstacles []Rect
	// MaxPlayers is the seat count, at most the package MaxPlayers.
	MaxPlayers int

	PlayerRadius       float64
	MaxSpeed           float64 // units per second
	MaxHealth          int
	ProjectileSpeed    float64 // units per second
	ProjectileRadius   float64
	ProjectileDamage   int
	ProjectileLifetime time.Duration
	FireCooldown       time.Duration
	RespawnDelay       time.Duration

	// ScoreLimit ends the match when a player's score reaches it.
	ScoreLimit int
	// TimeLimit ends the match when this much simulated time has passed.
	TimeLimit time.Duration
	// ReconnectGrace is how long a disconnected player's slot and score are
	// kept for AddPlayer with the same account to resume.
	ReconnectGrace time.Duration

	// Anti-cheat.
	MaxInputLead         time.Duration
	MaxInputAge          time.Duration
	InputBurst           int // ticks of movement budget a player may bank
	KickThreshold        int
	ViolationForgiveness time.Duration
	InputGateBudget      int // frames per InputGateWindow, see InputGate
	InputGateWindow      time.Duration
}

// DefaultObstacles lays out a center block and four pillars proportional to
// the world size, leaving wide lanes between them.
func DefaultObstacles(width, height float64) []Rect {
	r := func(x0, y0, x1, y1 float64) Rect {
		return Rect{Min: Vec2{x0 * width, y0 * height}, Max: Vec2{x1 * width, y1 * height}}
	}
	return []Rect{
		r(0.45, 0.40, 0.55, 0.60),
		r(0.20, 0.20, 0.25, 0.30),
		r(0.75, 0.20, 0.80, 0.30),
		r(0.20, 0.70, 0.25, 0.80),
		r(0.75, 0.70, 0.80, 0.80),
	}
}

// WithDefaults returns c with every zero field replaced by its default. The
// obstacle slice is copied so the World never aliases the caller's memory.
func (c Config) WithDefaults() Config {
	setF := func(v *float64, d float64) {
		if *v == 0 {
			*v = d
		}
	}
	setI := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	setD := func(v *time.Duration, d time.Duration) {
		if *v == 0 {
			*v = d
		}
	}
	setI(&c.TickRate, DefaultTickRate)
	setF(&c.Width, DefaultWidth)
	setF(&c.Height, DefaultHeight)
	if c.Obstacles == nil {
		c.Obstacles = DefaultObstacles(c.Width, c.Height)
	} else {
		c.Obstacles = append([]Rect{}, c.Obstacles...)
	}
	setI(&c.MaxPlayers, MaxPlayers)
	setF(&c.PlayerRadius, DefaultPlayerRadius)
	setF(&c.MaxSpeed, DefaultMaxSpeed)
	setI(&c.MaxHealth, DefaultMaxHealth)
	setF(&c.ProjectileSpeed, DefaultProjectileSpeed)
	setF(&c.ProjectileRadius, DefaultProjectileRadius)
	setI(&c.ProjectileDamage, DefaultProjectileDamage)
	setD(&c.ProjectileLifetime, DefaultProjectileLifetime)
	setD(&c.FireCooldown, DefaultFireCooldown)
	setD(&c.RespawnDelay, DefaultRespawnDelay)
	setI(&c.ScoreLimit, DefaultScoreLimit)
	setD(&c.TimeLimit, DefaultTimeLimit)
	setD(&c.ReconnectGrace, DefaultReconnectGrace)
	setD(&c.MaxInputLead, DefaultMaxInputLead)
	setD(&c.MaxInputAge, DefaultMaxInputAge)
	setI(&c.InputBurst, DefaultInputBurst)
	setI(&c.KickThreshold, DefaultKickThreshold)
	setD(&c.ViolationForgiveness, DefaultViolationForgiveness)
	setI(&c.InputGateBudget, DefaultInputGateBudget)
	setD(&c.InputGateWindow, DefaultInputGateWindow)
	return c
}

// DurationTicks converts d to whole ticks at c's tick rate, rounding up so a
// cooldown or delay is never shorter than configured. c must have a positive
// TickRate (see WithDefaults).
func (c Config) DurationTicks(d time.Duration) uint32 {
	if d <= 0 || c.TickRate <= 0 {
		return 0
	}
	n := (int64(d)*int64(c.TickRate) + int64(time.Second) - 1) / int64(time.Second)
	if n > math.MaxUint32 {
		return math.MaxUint32
	}
	return uint32(n)
}

// TickDuration converts a tick count back to simulated time.
func (c Config) TickDuration(ticks uint32) time.Duration {
	if c.TickRate <= 0 {
		return 0
	}
	return time.Duration(int64(ticks) * int64(time.Second) / int64(c.TickRate))
}

// Validate reports whether c, after defaults, describes a playable match.
func (c Config) Validate() error {
	c = c.WithDefaults()
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	finitePos := func(name string, v, max float64) {
		if math.IsNaN(v) || v <= 0 || v > max {
			bad("%s %v out of range (0, %v]", name, v, max)
		}
	}
	intRange := func(name string, v, lo, hi int) {
		if v < lo || v > hi {
			bad("%s %d out of range [%d, %d]", name, v, lo, hi)
		}
	}
	durRange := func(name string, v, lo, hi time.Duration) {
		if v < lo || v > hi {
			bad("%s %v out of range [%v, %v]", name, v, lo, hi)
		}
	}

	intRange("tick rate", c.TickRate, 1, MaxTickRate)
	finitePos("width", c.Width, MaxWorldSize)
	finitePos("height", c.Height, MaxWorldSize)
	intRange("max players", c.MaxPlayers, 1, MaxPlayers)
	finitePos("player radius", c.PlayerRadius, math.Min(c.Width, c.Height)/8)
	finitePos("max speed", c.MaxSpeed, MaxMoveSpeed)
	intRange("max health", c.MaxHealth, 1, MaxHealthLimit)
	finitePos("projectile speed", c.ProjectileSpeed, MaxProjectileSpeed)
	finitePos("projectile radius", c.ProjectileRadius, c.PlayerRadius)
	intRange("projectile damage", c.ProjectileDamage, 1, c.MaxHealth)
	durRange("projectile lifetime", c.ProjectileLifetime, time.Millisecond, time.Minute)
	durRange("fire cooldown", c.FireCooldown, time.Millisecond, time.Minute)
	durRange("respawn delay", c.RespawnDelay, time.Millisecond, time.Hour)
	intRange("score limit", c.ScoreLimit, 1, MaxScoreLimit)
	durRange("time limit", c.TimeLimit, time.Second, MaxTimeLimit)
	durRange("reconnect grace", c.ReconnectGrace, time.Millisecond, MaxReconnectGrace)
	durRange("max input lead", c.MaxInputLead, time.Millisecond, time.Minute)
	durRange("max input age", c.MaxInputAge, time.Millisecond, time.Minute)
	intRange("input burst", c.InputBurst, 1, 10*MaxTickRate)
	intRange("kick threshold", c.KickThreshold, 1, 1_000_000)
	durRange("violation forgiveness", c.ViolationForgiveness, time.Millisecond, time.Hour)
	intRange("input gate budget", c.InputGateBudget, 1, 1_000_000)
	durRange("input gate window", c.InputGateWindow, time.Millisecond, time.Minute)
	if len(errs) > 0 {
		// Derived checks below divide by or scale with these values.
		return fmt.Errorf("arena config: %w", errors.Join(errs...))
	}

	cooldown := c.DurationTicks(c.FireCooldown)
	lifetime := c.DurationTicks(c.ProjectileLifetime)
	// A player holds at most lifetime/cooldown projectiles in flight, plus
	// one for the fire-credit burst (see World.fire).
	if perPlayer := int(lifetime/cooldown) + 2; perPlayer*c.MaxPlayers > MaxProjectiles {
		bad("projectile lifetime %v / fire cooldown %v allows %d projectiles per player; %d players exceed the cap of %d",
			c.ProjectileLifetime, c.FireCooldown, perPlayer, c.MaxPlayers, MaxProjectiles)
	}
	if len(c.Obstacles) > MaxObstacles {
		bad("%d obstacles exceed the cap of %d", len(c.Obstacles), MaxObstacles)
	}
	for i, o := range c.Obstacles {
		if !finiteVec(o.Min) || !finiteVec(o.Max) || o.Min.X >= o.Max.X || o.Min.Y >= o.Max.Y {
			bad("obstacle %d: min %v must be finite and below max %v", i, o.Min, o.Max)
			continue
		}
		if o.Min.X < 0 || o.Min.Y < 0 || o.Max.X > c.Width || o.Max.Y > c.Height {
			bad("obstacle %d lies outside the %vx%v world", i, c.Width, c.Height)
		}
	}
	if len(errs) == 0 {
		if m := newMovement(c); !m.hasFreePoint() {
			bad("obstacles leave no room to spawn a player")
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("arena config: %w", errors.Join(errs...))
	}
	return nil
}

func finiteVec(v Vec2) bool {
	return !math.IsNaN(v.X) && !math.IsNaN(v.Y) && !math.IsInf(v.X, 0) && !math.IsInf(v.Y, 0)
}
