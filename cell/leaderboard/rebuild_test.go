package leaderboard

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/atollgg/atoll/contract"
	"github.com/prometheus/client_golang/prometheus"
)

// TestRebuildMatchesReference feeds random matches through a real embedded
// NATS stream, restarts the cell's bus and boards in three ways, and checks
// the rebuilt boards against the brute-force reference each time.
func TestRebuildMatchesReference(t *testing.T) {
	for _, tc := range []struct {
		name string
		// midSnapshot snapshots after the first half of the events.
		midSnapshot bool
		// graceful stops with Shutdown (final snapshot) rather than a crash.
		graceful bool
	}{
		{"crash without any snapshot: full replay", false, false},
		{"crash after a snapshot: snapshot plus replay", true, false},
		{"graceful shutdown: final snapshot", true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			keys := newKeys(t)
			b := startBus(t, dir)
			s := startService(t, b, keys)
			rng := rand.New(rand.NewPCG(42, 7))
			pool := players(40)
			ref := reference{}
			defs := testDefs()
			var last uint64
			const matches = 400
			for i := range matches {
				ev := randomMatch(rng, pool, i)
				last = publish(t, b, ev)
				ref.apply(defs, ev, nil)
				if i == matches/2 && tc.midSnapshot {
					waitSeq(t, s, last)
					if err := s.Snapshot(context.Background()); err != nil {
						t.Fatal(err)
					}
				}
			}
			waitSeq(t, s, last)
			want := ref.sorted(defs)
			sameBoards(t, s, want)

			if tc.graceful {
				if err := s.Shutdown(context.Background()); err != nil {
					t.Fatal(err)
				}
			} else {
				s.crash()
			}
			stopBus(t, b)

			b = startBus(t, dir)
			t.Cleanup(func() { stopBus(t, b) })
			s = startService(t, b, keys)
			if s.LastSeq() != last {
				t.Fatalf("rebuilt to sequence %d, want %d", s.LastSeq(), last)
			}
			sameBoards(t, s, want)

			// Live events after the restart still apply.
			ev := randomMatch(rng, pool, matches)
			waitSeq(t, s, publish(t, b, ev))
			ref.apply(defs, ev, nil)
			sameBoards(t, s, ref.sorted(defs))
		})
	}
}

// TestErasureSurvivesRestart: an erased player stays off every board after
// a restart that replays their matches from the stream and loads a snapshot
// taken before the erasure.
func TestErasureSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	keys := newKeys(t)
	b := startBus(t, dir)
	s := startService(t, b, keys)
	rng := rand.New(rand.NewPCG(9, 9))
	pool := players(10)
	defs := testDefs()
	var last uint64
	var events []contract.MatchCompleted
	for i := range 60 {
		ev := randomMatch(rng, pool, i)
		events = append(events, ev)
		last = publish(t, b, ev)
		if i == 30 {
			waitSeq(t, s, last)
			if err := s.Snapshot(context.Background()); err != nil {
				t.Fatal(err)
			}
		}
	}
	waitSeq(t, s, last)
	gone := pool[3]
	if err := s.RemovePlayer(context.Background(), gone); err != nil {
		t.Fatal(err)
	}
	if err := s.RemovePlayer(context.Background(), gone); err != nil {
		t.Fatalf("a second erasure: %v", err)
	}
	if err := s.RemovePlayer(context.Background(), "not-a-uuid"); err == nil {
		t.Fatal("erased a malformed id")
	}
	ref := reference{}
	for _, ev := range events {
		ref.apply(defs, ev, map[string]bool{gone: true})
	}
	sameBoards(t, s, ref.sorted(defs))

	s.crash()
	stopBus(t, b)
	b = startBus(t, dir)
	t.Cleanup(func() { stopBus(t, b) })
	s = startService(t, b, keys)
	sameBoards(t, s, ref.sorted(defs))
}

// TestInvalidEventSkipped: an undecodable or invalid match.completed on the
// stream is counted and skipped; the boards move past it and keep applying.
func TestInvalidEventSkipped(t *testing.T) {
	keys := newKeys(t)
	b := startBus(t, t.TempDir())
	t.Cleanup(func() { stopBus(t, b) })
	reg := prometheus.NewRegistry()
	s := startService(t, b, keys, func(c *Config) { c.Registry = reg })
	ctx := context.Background()
	for i, body := range []string{`{`, `{"session_id":"x","players":[{"player_id":"p"}]}`} {
		ack, err := b.Publish(ctx, contract.KindMatchCompleted, []byte(body), fmt.Sprintf("bad-%d", i))
		if err != nil {
			t.Fatal(err)
		}
		waitSeq(t, s, ack.Sequence)
	}
	p := players(1)[0]
	waitSeq(t, s, publish(t, b, contract.MatchCompleted{CellID: testCell, SessionID: "ok", GameMode: "duel", EndedAt: t0,
		Players: []contract.PlayerResult{{PlayerID: p, Score: 4}}}))
	if got := counted(t, reg, "invalid"); got != 2 {
		t.Fatalf("invalid events counted: %v, want 2", got)
	}
	if got := counted(t, reg, "applied"); got != 1 {
		t.Fatalf("applied events counted: %v, want 1", got)
	}
	ref := reference{}
	ref.apply(testDefs(), contract.MatchCompleted{GameMode: "duel", EndedAt: t0, Players: []contract.PlayerResult{{PlayerID: p, Score: 4}}}, nil)
	sameBoards(t, s, ref.sorted(testDefs()))
}

// counted reads atoll_leaderboard_events_total{result} from reg.
func counted(t *testing.T, reg *prometheus.Registry, result string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "atoll_leaderboard_events_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "result" && l.GetValue() == result {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	return 0
}
