package matchmaker

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"
)

// propertyModes are the modes the property test drives: the defaults plus
// shapes that take the other code paths (three teams, greedy balancing).
func propertyModes(t *testing.T) []Mode {
	extra := []Mode{
		{
			Name: "3x3", Teams: 3, TeamSize: 3, RatingWindow: 100,
			RatingExpansions: []RatingStep{{After: Duration(20 * time.Second), Window: 300}},
			MaxLatencyMs:     80, QueueTimeout: Duration(90 * time.Second),
		},
		{
			Name: "8v8", Teams: 2, TeamSize: 8, RatingWindow: 150,
			RatingExpansions: []RatingStep{{After: Duration(30 * time.Second), Window: 500}},
			MaxLatencyMs:     100, LatencyExpansions: []LatencyStep{{After: Duration(30 * time.Second), MaxLatencyMs: 150}},
			QueueTimeout: Duration(2 * time.Minute),
		},
	}
	return append(DefaultModes(), extra...)
}

// simulation drives one pool through arrivals, cancellations and passes
// and returns every PassResult, checking the invariants on the way.
func simulate(t *testing.T, m Mode, seed uint64) []PassResult {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	p := newTestPool(t, m)
	mode := p.Mode()
	const (
		steps   = 100
		step    = 3 * time.Second
		perStep = 60
	)
	status := map[string]string{} // ticket id → queued, matched, timed out, removed
	var ids []string              // status keys in arrival order, for a reproducible walk
	playerDone := map[string]bool{}
	var results []PassResult
	now := epoch
	for s := range steps {
		now = now.Add(step)
		// Arrivals enqueued during the last step.
		for _, tk := range randomTickets(rng, m, perStep, now, fmt.Sprintf("s%d-", s)) {
			tk.EnqueuedAt = now.Add(-time.Duration(rng.Int64N(int64(step))))
			if err := p.Add(tk); err != nil {
				t.Fatalf("Add(%s): %v", tk.ID, err)
			}
			status[tk.ID] = "queued"
			ids = append(ids, tk.ID)
		}
		// Some players give up.
		for _, id := range ids {
			if status[id] == "queued" && rng.IntN(40) == 0 {
				if !p.Remove(id) {
					t.Fatalf("Remove(%s) = false for a queued ticket", id)
				}
				status[id] = "removed"
			}
		}
		res := p.Pass(now)
		results = append(results, res)
		for _, mt := range res.Matches {
			verifyMatch(t, mode, mt, now)
			if mode.Teams == 2 && len(mt.Tickets) <= exactBalanceMaxTickets {
				want := bestPairDiff(mt.Tickets, mode.TeamSize)
				if got := teamSpread(mt); got > want+1e-6 {
					t.Errorf("%s: teams differ by %v, best split %v", mode.Name, got, want)
				}
			} else if mode.TeamSize > 1 {
				checkNoImprovingSwap(t, mt)
			}
			for _, tk := range mt.Tickets {
				if status[tk.ID] != "queued" {
					t.Fatalf("ticket %s matched while %s", tk.ID, status[tk.ID])
				}
				status[tk.ID] = "matched"
				for _, pl := range tk.Players {
					if playerDone[pl.ID] {
						t.Fatalf("player %s in two matches", pl.ID)
					}
					playerDone[pl.ID] = true
				}
			}
		}
		// Now and then a game server allocation fails and the cell puts a
		// match's tickets back, keeping their enqueue times.
		for _, mt := range res.Matches {
			if rng.IntN(50) != 0 {
				continue
			}
			for _, tk := range mt.Tickets {
				if err := p.Add(tk); err != nil {
					t.Fatalf("requeue %s: %v", tk.ID, err)
				}
				status[tk.ID] = "queued"
				for _, pl := range tk.Players {
					delete(playerDone, pl.ID)
				}
			}
		}
		for _, tk := range res.TimedOut {
			if status[tk.ID] != "queued" {
				t.Fatalf("ticket %s timed out while %s", tk.ID, status[tk.ID])
			}
			if w := waited(tk.EnqueuedAt, now); w < time.Duration(mode.QueueTimeout) {
				t.Fatalf("ticket %s timed out after only %s", tk.ID, w)
			}
			status[tk.ID] = "timed out"
		}
		// Every ticket is in exactly one place.
		queued := 0
		for _, id := range ids {
			st := status[id]
			_, _, inPool := p.Window(id, now)
			if inPool != (st == "queued") {
				t.Fatalf("ticket %s is %s but in pool = %v", id, st, inPool)
			}
			if st == "queued" {
				queued++
			}
		}
		if p.Len() != queued {
			t.Fatalf("Len = %d, %d tickets queued", p.Len(), queued)
		}
	}
	counts := map[string]int{}
	for _, st := range status {
		counts[st]++
	}
	if counts["matched"] == 0 || counts["timed out"] == 0 && mode.QueueTimeout <= Duration(steps*step) {
		t.Errorf("%s: outcomes %v; the simulation should produce matches and timeouts", mode.Name, counts)
	}
	t.Logf("%s: %v", mode.Name, counts)
	return results
}

func TestPassProperties(t *testing.T) {
	for _, m := range propertyModes(t) {
		t.Run(m.Name, func(t *testing.T) {
			first := simulate(t, m, 42)
			if t.Failed() {
				return
			}
			// The same queue history gives the same matches.
			if again := simulate(t, m, 42); !reflect.DeepEqual(first, again) {
				t.Fatal("two runs over the same history produced different results")
			}
		})
	}
}
