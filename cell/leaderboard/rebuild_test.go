package leaderboard

import (
	"context"
	"math/rand/v2"
	"testing"

	"github.com/atollgg/atoll/contract"
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
