package matchmaker

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

// epoch is the fixed "now" of tests and benchmarks.
var epoch = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// testMode returns the default mode called name.
func testMode(t testing.TB, name string) Mode {
	t.Helper()
	for _, m := range DefaultModes() {
		if m.Name == name {
			return m
		}
	}
	t.Fatalf("no default mode %q", name)
	return Mode{}
}

// newTestPool returns an empty pool for m.
func newTestPool(t testing.TB, m Mode) *Pool {
	t.Helper()
	p, err := NewPool(m)
	if err != nil {
		t.Fatalf("NewPool(%s): %v", m.Name, err)
	}
	return p
}

// solo is a one-player ticket enqueued wait before epoch.
func solo(mode, id string, rating float64, latencyMs int, wait time.Duration) Ticket {
	return Ticket{
		ID: id, Mode: mode,
		Players:    []Player{{ID: "p-" + id, Rating: rating}},
		LatencyMs:  latencyMs,
		EnqueuedAt: epoch.Add(-wait),
	}
}

// party is a ticket of len(ratings) players enqueued wait before epoch.
func party(mode, id string, latencyMs int, wait time.Duration, ratings ...float64) Ticket {
	t := Ticket{ID: id, Mode: mode, LatencyMs: latencyMs, EnqueuedAt: epoch.Add(-wait)}
	for i, r := range ratings {
		t.Players = append(t.Players, Player{ID: fmt.Sprintf("p-%s-%d", id, i), Rating: r})
	}
	return t
}

// mustAdd adds every ticket or fails the test.
func mustAdd(t testing.TB, p *Pool, tickets ...Ticket) {
	t.Helper()
	for _, tk := range tickets {
		if err := p.Add(tk); err != nil {
			t.Fatalf("Add(%s): %v", tk.ID, err)
		}
	}
}

// randomTickets draws n tickets for mode m the way a busy region looks:
// ratings ~ N(1500, 300), latencies mostly 15–100 ms with a long tail,
// enqueue times spread over the last minute before now, and for team modes
// a mix of solo players and parties up to the team size.
func randomTickets(rng *rand.Rand, m Mode, n int, now time.Time, idPrefix string) []Ticket {
	tickets := make([]Ticket, n)
	for i := range tickets {
		size := 1
		if m.TeamSize > 1 {
			switch x := rng.Float64(); {
			case x < 0.15:
				size = 2
			case x < 0.20:
				size = 2 + rng.IntN(m.TeamSize-1)
			}
		}
		id := fmt.Sprintf("%s%d", idPrefix, i)
		tk := Ticket{
			ID: id, Mode: m.Name,
			LatencyMs:  min(15+int(rng.ExpFloat64()*35), MaxLatencyLimitMs),
			EnqueuedAt: now.Add(-time.Duration(rng.Int64N(int64(time.Minute)))),
		}
		for j := range size {
			tk.Players = append(tk.Players, Player{
				ID:     fmt.Sprintf("%s-%d", id, j),
				Rating: 1500 + rng.NormFloat64()*300,
			})
		}
		tickets[i] = tk
	}
	return tickets
}

// verifyMatch checks everything a Pass promises about one match formed at
// now in mode m (with MaxPlayers and MinPlayers filled in, as Pool.Mode
// returns it).
func verifyMatch(t testing.TB, m Mode, mt Match, now time.Time) {
	t.Helper()
	if mt.Mode != m.Name {
		t.Errorf("match mode %q, want %q", mt.Mode, m.Name)
	}
	players, total := 0, 0.0
	var oldest time.Duration
	for _, tk := range mt.Tickets {
		players += len(tk.Players)
		total += tk.ratingSum()
		oldest = max(oldest, waited(tk.EnqueuedAt, now))
	}
	if players != m.MaxPlayers {
		if players < m.MinPlayers || m.TeamSize != 1 || oldest < time.Duration(m.MinPlayersAfter) {
			t.Errorf("match of %d players (full %d, min %d) with oldest wait %s", players, m.MaxPlayers, m.MinPlayers, oldest)
		}
	}
	mean := total / float64(players)
	if math.Abs(mean-mt.MeanRating) > 1e-6 {
		t.Errorf("MeanRating %v, want %v", mt.MeanRating, mean)
	}
	for _, tk := range mt.Tickets {
		wait := waited(tk.EnqueuedAt, now)
		if wait >= time.Duration(m.QueueTimeout) {
			t.Errorf("ticket %s matched after timing out (waited %s)", tk.ID, wait)
		}
		if limit := m.MaxLatencyAt(wait); tk.LatencyMs > limit {
			t.Errorf("ticket %s latency %d above its limit %d", tk.ID, tk.LatencyMs, limit)
		}
		if d, w := math.Abs(tk.Rating()-mean), m.RatingWindowAt(wait); d > w+1e-6 {
			t.Errorf("ticket %s rating %.1f is %.1f from the mean %.1f, window %.1f", tk.ID, tk.Rating(), d, mean, w)
		}
	}
	// Teams: sizes, and every ticket's players exactly once on one team.
	if m.TeamSize == 1 {
		if len(mt.Teams) != players {
			t.Errorf("free-for-all of %d players has %d teams", players, len(mt.Teams))
		}
	} else if len(mt.Teams) != m.Teams {
		t.Errorf("%d teams, want %d", len(mt.Teams), m.Teams)
	}
	teamOf := map[string]int{} // ticket id → team
	seen := map[string]bool{}  // player id
	for ti, team := range mt.Teams {
		if len(team.Players) != m.TeamSize {
			t.Errorf("team %d has %d players, want %d", ti, len(team.Players), m.TeamSize)
		}
		var sum float64
		for _, s := range team.Players {
			sum += s.Rating
			if seen[s.PlayerID] {
				t.Errorf("player %s twice in a match", s.PlayerID)
			}
			seen[s.PlayerID] = true
			if prev, ok := teamOf[s.TicketID]; ok && prev != ti {
				t.Errorf("ticket %s split across teams %d and %d", s.TicketID, prev, ti)
			}
			teamOf[s.TicketID] = ti
		}
		if math.Abs(sum-team.RatingSum) > 1e-6 {
			t.Errorf("team %d RatingSum %v, want %v", ti, team.RatingSum, sum)
		}
	}
	for _, tk := range mt.Tickets {
		for _, pl := range tk.Players {
			if !seen[pl.ID] {
				t.Errorf("player %s of ticket %s has no slot", pl.ID, tk.ID)
			}
			delete(seen, pl.ID)
		}
	}
	if len(seen) != 0 {
		t.Errorf("slots for players of no matched ticket: %v", seen)
	}
}

// bestPairDiff is the smallest |team 0 − team 1| rating-sum difference of
// any split of tickets into two teams of teamSize players, by brute force.
func bestPairDiff(tickets []Ticket, teamSize int) float64 {
	best := math.Inf(1)
	var total float64
	sizes, sums := make([]int, len(tickets)), make([]float64, len(tickets))
	for i, tk := range tickets {
		sizes[i], sums[i] = len(tk.Players), tk.ratingSum()
		total += sums[i]
	}
	for mask := 0; mask < 1<<len(tickets); mask++ {
		n, sum := 0, 0.0
		for i := range tickets {
			if mask&(1<<i) != 0 {
				n += sizes[i]
				sum += sums[i]
			}
		}
		if n == teamSize {
			best = min(best, math.Abs(2*sum-total))
		}
	}
	return best
}

// teamSpread is the largest minus the smallest team rating sum.
func teamSpread(mt Match) float64 {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, team := range mt.Teams {
		lo, hi = min(lo, team.RatingSum), max(hi, team.RatingSum)
	}
	return hi - lo
}

// checkNoImprovingSwap fails when exchanging two equal-sized tickets between
// teams would lower the sum of squared team sums: greedy balancing must end
// at such a local optimum.
func checkNoImprovingSwap(t testing.TB, mt Match) {
	t.Helper()
	type tick struct {
		team int
		size int
		sum  float64
	}
	byID := map[string]*tick{}
	var order []string
	for ti, team := range mt.Teams {
		for _, s := range team.Players {
			tk, ok := byID[s.TicketID]
			if !ok {
				tk = &tick{team: ti}
				byID[s.TicketID] = tk
				order = append(order, s.TicketID)
			}
			tk.size++
			tk.sum += s.Rating
		}
	}
	for i, a := range order {
		for _, b := range order[i+1:] {
			x, y := byID[a], byID[b]
			if x.team == y.team || x.size != y.size {
				continue
			}
			si, sj := mt.Teams[x.team].RatingSum, mt.Teams[y.team].RatingSum
			d := x.sum - y.sum
			if gain := 2 * d * (si - sj - d); gain > 1e-6 {
				t.Errorf("swapping tickets %s and %s would even the teams (gain %.3f)", a, b, gain)
			}
		}
	}
}
