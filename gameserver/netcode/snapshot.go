package netcode

import (
	"fmt"
	"math"

	"github.com/atollgg/atoll/gameserver/arena"
)

// Snapshot is the quantized state of a match at one tick, as a client sees
// it. Players and Projectiles are sorted by ascending ID.
type Snapshot struct {
	Tick uint32 `json:"tick"`
	// AckSeq is the last input Seq the server processed for the receiving
	// client; it is per connection, set when encoding.
	AckSeq    uint32          `json:"ack_seq"`
	TicksLeft uint32          `json:"ticks_left"`
	Over      bool            `json:"over"`
	EndReason arena.EndReason `json:"end_reason"`

	Players     []PlayerState     `json:"players"`
	Projectiles []ProjectileState `json:"projectiles"`
}

// Player flags.
const (
	FlagAlive     = 1 << 0
	FlagConnected = 1 << 1
)

// PlayerState is one player quantized: positions in 1/PositionScale units,
// velocities in 1/PositionScale units per second.
type PlayerState struct {
	ID        arena.PlayerID `json:"id"`
	X         int32          `json:"x"`
	Y         int32          `json:"y"`
	VX        int32          `json:"vx"`
	VY        int32          `json:"vy"`
	Aim       arena.Angle    `json:"aim"`
	Health    int32          `json:"health"`
	Flags     uint8          `json:"flags"`
	RespawnIn uint32         `json:"respawn_in"`
	Score     int32          `json:"score"`
	Kills     int32          `json:"kills"`
	Deaths    int32          `json:"deaths"`
}

// Pos is the player's position in world units.
func (p *PlayerState) Pos() arena.Vec2 { return dequantize(p.X, p.Y) }

// Vel is the player's velocity in units per second.
func (p *PlayerState) Vel() arena.Vec2 { return dequantize(p.VX, p.VY) }

// Alive reports whether the player is on the field.
func (p *PlayerState) Alive() bool { return p.Flags&FlagAlive != 0 }

// Connected reports whether the player is connected (not in reconnect grace).
func (p *PlayerState) Connected() bool { return p.Flags&FlagConnected != 0 }

// ProjectileState is one projectile quantized. Its flight is linear, so it
// is sent once, when it appears, and never changes: the client places it at
// Origin + Vel·(tick−SpawnTick)/TickRate (see PosAt).
type ProjectileState struct {
	ID        uint32         `json:"id"`
	Owner     arena.PlayerID `json:"owner"`
	SpawnTick uint32         `json:"spawn_tick"`
	X         int32          `json:"x"`
	Y         int32          `json:"y"`
	VX        int32          `json:"vx"`
	VY        int32          `json:"vy"`
}

// PosAt is where the projectile is at tick, if it has not hit anything.
func (p *ProjectileState) PosAt(tick uint32, tickRate int) arena.Vec2 {
	age := float64(int64(tick) - int64(p.SpawnTick))
	return dequantize(p.X, p.Y).Add(dequantize(p.VX, p.VY).Scale(age / float64(tickRate)))
}

// Vel is the projectile's velocity in units per second.
func (p *ProjectileState) Vel() arena.Vec2 { return dequantize(p.VX, p.VY) }

// Player returns the state of id, if present.
func (s *Snapshot) Player(id arena.PlayerID) (*PlayerState, bool) {
	// Players are sorted and few: a linear scan beats a search here.
	for i := range s.Players {
		if s.Players[i].ID == id {
			return &s.Players[i], true
		}
	}
	return nil, false
}

// CopyFrom makes s a deep copy of o, reusing s's memory.
func (s *Snapshot) CopyFrom(o *Snapshot) {
	players, projectiles := s.Players[:0], s.Projectiles[:0]
	*s = *o
	s.Players = append(players, o.Players...)
	s.Projectiles = append(projectiles, o.Projectiles...)
}

// Quantize converts a world position to wire units, saturating at the int32
// range (Config.Validate keeps real positions far inside it).
func Quantize(v float64) int32 {
	q := math.Round(v * PositionScale)
	switch {
	case math.IsNaN(q):
		return 0
	case q > math.MaxInt32:
		return math.MaxInt32
	case q < math.MinInt32:
		return math.MinInt32
	}
	return int32(q)
}

func dequantize(x, y int32) arena.Vec2 {
	return arena.Vec2{X: float64(x) / PositionScale, Y: float64(y) / PositionScale}
}

// Capture quantizes w's current state into dst, reusing its memory. Servers
// should prefer History.Capture, which also avoids per-call scratch.
func Capture(w *arena.World, dst *Snapshot) {
	var sc captureScratch
	sc.capture(w, dst)
}

type captureScratch struct {
	players     []arena.PlayerState
	projectiles []arena.ProjectileState
}

func (sc *captureScratch) capture(w *arena.World, dst *Snapshot) {
	over, reason := w.Over()
	dst.Tick, dst.AckSeq, dst.TicksLeft, dst.Over, dst.EndReason = w.Tick(), 0, w.TicksLeft(), over, reason
	sc.players = w.AppendPlayers(sc.players[:0])
	sc.projectiles = w.AppendProjectiles(sc.projectiles[:0])
	dst.Players = dst.Players[:0]
	for i := range sc.players {
		p := &sc.players[i]
		var flags uint8
		if p.Alive {
			flags |= FlagAlive
		}
		if p.Connected {
			flags |= FlagConnected
		}
		dst.Players = append(dst.Players, PlayerState{
			ID: p.ID, X: Quantize(p.Pos.X), Y: Quantize(p.Pos.Y), VX: Quantize(p.Vel.X), VY: Quantize(p.Vel.Y),
			Aim: p.Aim, Health: int32(p.Health), Flags: flags, RespawnIn: p.RespawnIn,
			Score: int32(p.Score), Kills: int32(p.Kills), Deaths: int32(p.Deaths),
		})
	}
	dst.Projectiles = dst.Projectiles[:0]
	for i := range sc.projectiles {
		p := &sc.projectiles[i]
		dst.Projectiles = append(dst.Projectiles, ProjectileState{
			ID: p.ID, Owner: p.Owner, SpawnTick: p.SpawnTick,
			X: Quantize(p.Origin.X), Y: Quantize(p.Origin.Y), VX: Quantize(p.Vel.X), VY: Quantize(p.Vel.Y),
		})
	}
}

// validate checks the invariants every encoder relies on and every decoder
// guarantees: bounded counts, strictly ascending IDs, seats in range.
func (s *Snapshot) validate() error {
	if len(s.Players) > MaxPlayersPerSnapshot || len(s.Projectiles) > MaxProjectilesPerSnapshot {
		return fmt.Errorf("%w: %d players, %d projectiles exceed %d/%d", ErrMalformed,
			len(s.Players), len(s.Projectiles), MaxPlayersPerSnapshot, MaxProjectilesPerSnapshot)
	}
	if !s.EndReason.Valid() {
		return fmt.Errorf("%w: end reason %d", ErrMalformed, s.EndReason)
	}
	for i := range s.Players {
		p := &s.Players[i]
		if int(p.ID) >= arena.MaxPlayers || (i > 0 && p.ID <= s.Players[i-1].ID) {
			return fmt.Errorf("%w: player %d: id %d out of range or order", ErrMalformed, i, p.ID)
		}
		if p.Flags&^(FlagAlive|FlagConnected) != 0 {
			return fmt.Errorf("%w: player %d: unknown flags %#x", ErrMalformed, p.ID, p.Flags)
		}
	}
	for i := range s.Projectiles {
		p := &s.Projectiles[i]
		if int(p.Owner) >= arena.MaxPlayers || (i > 0 && p.ID <= s.Projectiles[i-1].ID) {
			return fmt.Errorf("%w: projectile %d: owner %d out of range or id out of order", ErrMalformed, p.ID, p.Owner)
		}
	}
	return nil
}
