package arena

import (
	"cmp"
	"encoding/binary"
	"hash/fnv"
	"math"
	"slices"
	"time"
)

// PlayerState is the public view of one seat, for snapshots and bots.
type PlayerState struct {
	ID        PlayerID
	Pos, Vel  Vec2
	Aim       Angle
	Health    int
	Alive     bool
	Connected bool
	// RespawnIn is ticks until a dead, connected player respawns.
	RespawnIn            uint32
	Score, Kills, Deaths int
}

// ProjectileState is the public view of one projectile. Its flight is
// linear, so Origin, SpawnTick and Vel describe it completely:
// Pos = Origin + Vel·(tick−SpawnTick)/TickRate until it hits something.
type ProjectileState struct {
	ID        uint32
	Owner     PlayerID
	Origin    Vec2
	SpawnTick uint32
	Pos, Vel  Vec2
}

// AppendPlayers appends every seated player (connected or within
// ReconnectGrace) in ascending ID order.
func (w *World) AppendPlayers(dst []PlayerState) []PlayerState {
	for i := range w.players {
		if p := &w.players[i]; p.used {
			dst = append(dst, w.playerState(PlayerID(i)))
		}
	}
	return dst
}

// Player returns id's state if the seat is taken.
func (w *World) Player(id PlayerID) (PlayerState, bool) {
	if int(id) >= MaxPlayers || !w.players[id].used {
		return PlayerState{}, false
	}
	return w.playerState(id), true
}

func (w *World) playerState(id PlayerID) PlayerState {
	p := &w.players[id]
	s := PlayerState{
		ID: id, Pos: p.pos, Vel: p.vel, Aim: p.aim, Health: p.health,
		Alive: p.alive, Connected: p.connected,
		Score: p.score, Kills: p.kills, Deaths: p.deaths,
	}
	if p.connected && !p.alive && p.respawnTick > w.tick {
		s.RespawnIn = p.respawnTick - w.tick
	}
	return s
}

// AppendProjectiles appends every live projectile in ascending ID order.
func (w *World) AppendProjectiles(dst []ProjectileState) []ProjectileState {
	for i := range w.projectiles {
		pr := &w.projectiles[i]
		dst = append(dst, ProjectileState{
			ID: pr.id, Owner: pr.owner, Origin: pr.origin, SpawnTick: pr.spawnTick, Pos: pr.pos, Vel: pr.vel,
		})
	}
	return dst
}

// Result is one player's match record.
type Result struct {
	Player     PlayerID
	Account    string
	Score      int
	Kills      int
	Deaths     int
	TimePlayed time.Duration // simulated time connected
	Connected  bool          // still seated and connected when Results was called
	Kicked     bool
}

func (w *World) result(id PlayerID) Result {
	p := &w.players[id]
	return Result{
		Player: id, Account: p.account, Score: p.score, Kills: p.kills, Deaths: p.deaths,
		TimePlayed: w.cfg.TickDuration(p.ticksPlayed), Connected: p.connected,
	}
}

// Results returns every player who took part — seated, or departed after
// their grace period or a kick — best first (score, kills, fewer deaths),
// ties by account. Seat IDs of departed players may have been reused.
func (w *World) Results() []Result {
	out := append([]Result{}, w.departed...)
	for i := range w.players {
		if w.players[i].used {
			out = append(out, w.result(PlayerID(i)))
		}
	}
	slices.SortStableFunc(out, func(a, b Result) int {
		if c := cmp.Compare(b.Score, a.Score); c != 0 {
			return c
		}
		if c := cmp.Compare(b.Kills, a.Kills); c != 0 {
			return c
		}
		if c := cmp.Compare(a.Deaths, b.Deaths); c != 0 {
			return c
		}
		return cmp.Compare(a.Account, b.Account)
	})
	return out
}

// StateHash fingerprints the whole simulation state (including the PRNG), so
// tests and replays can check two worlds stayed in lockstep.
func (w *World) StateHash() uint64 {
	h := fnv.New64a()
	var b [8]byte
	u := func(v uint64) {
		binary.LittleEndian.PutUint64(b[:], v)
		h.Write(b[:])
	}
	f := func(v float64) { u(math.Float64bits(v)) }
	vec := func(v Vec2) { f(v.X); f(v.Y) }
	flag := func(v bool) {
		if v {
			u(1)
		} else {
			u(0)
		}
	}
	u(uint64(w.tick))
	flag(w.over)
	u(uint64(w.endReason))
	u(uint64(w.winner))
	for i := range w.players {
		p := &w.players[i]
		flag(p.used)
		if !p.used {
			continue
		}
		h.Write([]byte(p.account))
		flag(p.connected)
		vec(p.pos)
		vec(p.vel)
		u(uint64(p.aim))
		u(uint64(p.health))
		flag(p.alive)
		u(uint64(p.respawnTick))
		u(uint64(p.score))
		u(uint64(p.kills))
		u(uint64(p.deaths))
		u(uint64(p.ticksPlayed))
		u(uint64(p.lastSeq))
		u(uint64(p.moveBudget))
		u(uint64(p.fireCredit))
		u(uint64(p.lastFireSeq))
		u(uint64(p.violScore))
		for _, c := range p.counts {
			u(uint64(c))
		}
	}
	u(uint64(w.nextProjID))
	for i := range w.projectiles {
		pr := &w.projectiles[i]
		u(uint64(pr.id))
		u(uint64(pr.owner))
		vec(pr.pos)
		vec(pr.vel)
		u(uint64(pr.age))
		u(uint64(pr.rewind))
	}
	for _, r := range w.departed {
		h.Write([]byte(r.Account))
		u(uint64(r.Score))
	}
	state, _ := w.pcg.MarshalBinary() // PCG marshalling cannot fail
	h.Write(state)
	return h.Sum64()
}
