package netcode

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/atollgg/atoll/gameserver/arena"
)

// liveMatch runs a real world with scripted players (random walks, aim at a
// neighbour, fire on cooldown, occasional disconnects) so snapshots contain
// movement, projectiles appearing and vanishing, deaths and departures.
type liveMatch struct {
	t    testing.TB
	w    *arena.World
	r    *rand.Rand
	ids  []arena.PlayerID
	seqs []uint32
	on   []bool
	cd   uint32
}

func newLiveMatch(t testing.TB, players int, seed uint64) *liveMatch {
	t.Helper()
	w, err := arena.New(arena.Config{Seed: seed, Width: 48, Height: 32, ReconnectGrace: 1e9})
	if err != nil {
		t.Fatal(err)
	}
	m := &liveMatch{t: t, w: w, r: rand.New(rand.NewPCG(seed, 99)), cd: w.Config().DurationTicks(w.Config().FireCooldown)}
	for i := range players {
		id, err := w.AddPlayer(fmt.Sprintf("p%d", i))
		if err != nil {
			t.Fatal(err)
		}
		m.ids, m.seqs, m.on = append(m.ids, id), append(m.seqs, 0), append(m.on, true)
	}
	return m
}

func (m *liveMatch) step() {
	w := m.w
	for i := range m.ids {
		if m.r.IntN(300) == 0 {
			if m.on[i] {
				if err := w.RemovePlayer(m.ids[i]); err != nil {
					m.t.Fatal(err)
				}
			} else if id, err := w.AddPlayer(fmt.Sprintf("p%d", i)); err == nil {
				m.ids[i], m.seqs[i] = id, 0
			}
			m.on[i] = !m.on[i]
		}
		if !m.on[i] {
			continue
		}
		m.seqs[i]++
		dir := arena.AngleFromRadians(m.r.Float64() * 2 * math.Pi).Dir()
		aim := 0.0
		me, _ := w.Player(m.ids[i])
		if o, ok := w.Player(m.ids[(i+1)%len(m.ids)]); ok {
			d := o.Pos.Sub(me.Pos)
			aim = math.Atan2(d.Y, d.X)
		}
		in := arena.Input{Seq: m.seqs[i], Tick: w.Tick(), MoveX: float32(dir.X), MoveY: float32(dir.Y), Aim: float32(aim), Fire: m.seqs[i]%m.cd == 0}
		if _, err := w.ApplyInput(m.ids[i], in); err != nil {
			m.t.Fatalf("ApplyInput: %v", err)
		}
	}
	w.Step()
}

// capture returns an independent copy of the current snapshot.
func (m *liveMatch) capture() *Snapshot {
	var s Snapshot
	Capture(m.w, &s)
	return &s
}

// randomSnapshot builds a snapshot with arbitrary (extreme) field values and
// a random subset of entity IDs, to stress the delta coder beyond what a
// real match produces.
func randomSnapshot(r *rand.Rand, tick uint32, projectileIDBase uint32) *Snapshot {
	s := &Snapshot{Tick: tick, TicksLeft: r.Uint32(), Over: r.IntN(2) == 0, EndReason: arena.EndReason(r.IntN(3))}
	pick := func() int32 {
		switch r.IntN(4) {
		case 0:
			return math.MinInt32
		case 1:
			return math.MaxInt32
		case 2:
			return int32(r.IntN(5))
		}
		return int32(r.Uint32())
	}
	for id := range arena.MaxPlayers {
		if r.IntN(3) == 0 {
			continue
		}
		s.Players = append(s.Players, PlayerState{
			ID: arena.PlayerID(id), X: pick(), Y: pick(), VX: pick(), VY: pick(), Aim: arena.Angle(r.Uint32()),
			Health: pick(), Flags: uint8(r.IntN(4)), RespawnIn: r.Uint32(), Score: pick(), Kills: pick(), Deaths: pick(),
		})
	}
	id := projectileIDBase
	for range r.IntN(200) {
		id += 1 + uint32(r.IntN(3))
		s.Projectiles = append(s.Projectiles, ProjectileState{
			ID: id, Owner: arena.PlayerID(r.IntN(arena.MaxPlayers)), SpawnTick: r.Uint32(), X: pick(), Y: pick(), VX: pick(), VY: pick(),
		})
	}
	return s
}
