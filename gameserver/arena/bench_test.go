package arena_test

import (
	"fmt"
	"testing"

	"github.com/atollgg/atoll/gameserver/arena"
	"github.com/atollgg/atoll/gameserver/bot"
	"github.com/atollgg/atoll/gameserver/netcode"
)

// benchRTTTicks is the spread of simulated round trips before a client's
// snapshot ack reaches the server: 3..10 ticks, 50–167 ms at 60 Hz, typical
// of players routed to a regional cell. It sets how old delta baselines
// are, and so how big deltas get.
func benchRTTTicks(seat int) uint32 { return 3 + uint32(seat%8) }

// BenchmarkTick64Bots measures one 60 Hz server tick of a full 64-player
// match: 64 bot brains choose inputs from the latest snapshot, the world
// applies them and steps, the tick is captured, and one delta snapshot is
// encoded per player against the baseline that player acknowledged one RTT
// ago.
func BenchmarkTick64Bots(b *testing.B) {
	cfg := arena.Config{TickRate: 60, Seed: 1, ScoreLimit: arena.MaxScoreLimit, TimeLimit: arena.MaxTimeLimit}
	w, err := arena.New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	type seat struct {
		id    arena.PlayerID
		brain *bot.Bot
		conn  *netcode.ServerConn
	}
	hist := netcode.NewHistory()
	seats := make([]seat, 0, arena.MaxPlayers)
	for i := range arena.MaxPlayers {
		id, err := w.AddPlayer(fmt.Sprintf("bot-%02d", i))
		if err != nil {
			b.Fatal(err)
		}
		brain, err := bot.New(w.Config(), id, uint64(i))
		if err != nil {
			b.Fatal(err)
		}
		seats = append(seats, seat{id: id, brain: brain, conn: netcode.NewServerConn(hist, netcode.Binary)})
	}
	var (
		buf        []byte
		events     []arena.Event
		violations []arena.Violation
	)
	snap := hist.Capture(w)
	tick := func() (bytes int) {
		for i := range seats {
			s := &seats[i]
			if _, err := w.ApplyInput(s.id, s.brain.Next(snap)); err != nil {
				b.Fatal(err)
			}
		}
		w.Step()
		events, _ = w.DrainEvents(events[:0])
		violations, _ = w.DrainViolations(violations[:0])
		snap = hist.Capture(w)
		for i := range seats {
			s := &seats[i]
			if buf, err = s.conn.AppendSnapshot(buf[:0], snap, w.LastProcessedSeq(s.id)); err != nil {
				b.Fatal(err)
			}
			bytes += len(buf)
			if rtt := benchRTTTicks(i); snap.Tick > rtt {
				s.conn.Ack(snap.Tick - rtt)
			}
		}
		return bytes
	}
	// Ten seconds of play first, so projectiles, deaths and respawns are at
	// their steady state.
	for range 600 {
		tick()
	}
	var total, projectiles int
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		total += tick()
		projectiles += len(snap.Projectiles)
	}
	n := float64(b.N)
	perSnapshot := float64(total) / n / float64(len(seats))
	nsPerTick := float64(b.Elapsed().Nanoseconds()) / n
	b.ReportMetric(nsPerTick*60/1e9*100, "%core@60Hz")
	b.ReportMetric(perSnapshot, "B/snapshot")
	// A delta's size depends on its baseline's age in time (one RTT), not in
	// ticks, so a 30 Hz snapshot stream sends deltas of this size, 30 times
	// a second.
	b.ReportMetric(perSnapshot*30, "B/s/player@30Hz")
	b.ReportMetric(float64(projectiles)/n, "projectiles")
	if len(violations) > 0 {
		b.Fatalf("bots committed violations: %+v", violations[0])
	}
}
