package matchmaker

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// matchedIDs returns the ticket ids of each match, sorted, for comparison.
func matchedIDs(res PassResult) [][]string {
	var out [][]string
	for _, mt := range res.Matches {
		var ids []string
		for _, tk := range mt.Tickets {
			ids = append(ids, tk.ID)
		}
		slices.Sort(ids)
		out = append(out, ids)
	}
	return out
}

func TestPassEmptyPool(t *testing.T) {
	p := newTestPool(t, testMode(t, "5v5"))
	res := p.Pass(epoch)
	if len(res.Matches) != 0 || len(res.TimedOut) != 0 {
		t.Fatalf("empty pool produced %+v", res)
	}
}

func TestPassRatingWindow(t *testing.T) {
	// Duel: window 50, then 100 at 10s, 200 at 20s, 400 at 40s. Two tickets
	// diff apart match when diff/2 (each one's distance to the mean) fits
	// both windows.
	tests := []struct {
		diff  float64
		wait  time.Duration
		match bool
	}{
		{90, 0, true},
		{100, 0, true}, // exactly at the edge
		{110, 0, false},
		{110, 9 * time.Second, false},
		{110, 10 * time.Second, true},
		{390, 25 * time.Second, true},
		{410, 25 * time.Second, false},
		{410, 40 * time.Second, true},
		{810, 100 * time.Second, false},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("diff %v after %s", tc.diff, tc.wait), func(t *testing.T) {
			p := newTestPool(t, testMode(t, "duel"))
			mustAdd(t, p, solo("duel", "lo", 1500, 20, tc.wait), solo("duel", "hi", 1500+tc.diff, 20, tc.wait))
			res := p.Pass(epoch)
			if got := len(res.Matches) == 1; got != tc.match {
				t.Fatalf("matched = %v, want %v", got, tc.match)
			}
			if wantLen := map[bool]int{true: 0, false: 2}[tc.match]; p.Len() != wantLen {
				t.Errorf("Len after Pass = %d, want %d", p.Len(), wantLen)
			}
		})
	}
}

func TestPassMatchesOnlyAfterExpansion(t *testing.T) {
	p := newTestPool(t, testMode(t, "duel"))
	mustAdd(t, p, solo("duel", "a", 1500, 20, 0), solo("duel", "b", 1750, 20, 0))
	for _, after := range []time.Duration{0, 5 * time.Second, 10 * time.Second, 19 * time.Second} {
		if res := p.Pass(epoch.Add(after)); len(res.Matches) != 0 {
			t.Fatalf("matched at +%s, before the window reached 125", after)
		}
	}
	res := p.Pass(epoch.Add(20 * time.Second))
	if got := matchedIDs(res); !slices.EqualFunc(got, [][]string{{"a", "b"}}, slices.Equal) {
		t.Fatalf("at +20s matches = %v, want [[a b]]", got)
	}
}

func TestPassEveryMemberWindowCounts(t *testing.T) {
	// The old ticket's window is 400 but the fresh one's is 50: the fresh
	// ticket must also sit within 50 of the mean.
	tests := []struct {
		fresh float64
		match bool
	}{
		{1700, false},
		{1600, true},
	}
	for _, tc := range tests {
		p := newTestPool(t, testMode(t, "duel"))
		mustAdd(t, p, solo("duel", "old", 1500, 20, 50*time.Second), solo("duel", "fresh", tc.fresh, 20, 0))
		if got := len(p.Pass(epoch).Matches) == 1; got != tc.match {
			t.Errorf("fresh at %v: matched = %v, want %v", tc.fresh, got, tc.match)
		}
	}
}

func TestPassLatencyLimit(t *testing.T) {
	// Duel: latency limit 80, 120 at 15s, 180 at 30s.
	tests := []struct {
		latency int
		wait    time.Duration
		match   bool
	}{
		{80, 0, true},
		{81, 0, false},
		{100, 14 * time.Second, false},
		{100, 15 * time.Second, true},
		{150, 15 * time.Second, false},
		{150, 30 * time.Second, true},
		{500, 100 * time.Second, false},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%dms after %s", tc.latency, tc.wait), func(t *testing.T) {
			p := newTestPool(t, testMode(t, "duel"))
			mustAdd(t, p, solo("duel", "far", 1500, tc.latency, tc.wait), solo("duel", "near", 1500, 10, tc.wait))
			res := p.Pass(epoch)
			if got := len(res.Matches) == 1; got != tc.match {
				t.Fatalf("matched = %v, want %v", got, tc.match)
			}
			if !tc.match && (p.Len() != 2 || len(res.TimedOut) != 0) {
				t.Errorf("a ticket over its latency limit must wait: Len %d, timed out %d", p.Len(), len(res.TimedOut))
			}
		})
	}
}

func TestPassPartiesStayTogetherAndTeamsBalance(t *testing.T) {
	const long = 100 * time.Second // widest windows, so balance is the only question
	tests := []struct {
		mode    string
		tickets []Ticket
	}{
		{"2v2", []Ticket{
			party("2v2", "duo", 20, long, 1500, 1500),
			solo("2v2", "s1", 1400, 20, long),
			solo("2v2", "s2", 1600, 20, long),
		}},
		{"2v2", []Ticket{
			party("2v2", "duo1", 20, long, 1700, 1300),
			party("2v2", "duo2", 20, long, 1550, 1400),
		}},
		{"5v5", []Ticket{
			party("5v5", "trio", 20, long, 1800, 1750, 1700),
			party("5v5", "duo", 20, long, 1300, 1350),
			solo("5v5", "a", 1500, 20, long), solo("5v5", "b", 1520, 20, long),
			solo("5v5", "c", 1480, 20, long), solo("5v5", "d", 1610, 20, long),
			solo("5v5", "e", 1390, 20, long),
		}},
		{"5v5", []Ticket{
			party("5v5", "d1", 20, long, 1500, 1600), party("5v5", "d2", 20, long, 1400, 1450),
			party("5v5", "d3", 20, long, 1700, 1650), party("5v5", "d4", 20, long, 1550, 1500),
			solo("5v5", "s1", 1300, 20, long), solo("5v5", "s2", 1600, 20, long),
		}},
		{"5v5", []Ticket{
			party("5v5", "stack", 20, long, 1500, 1510, 1490, 1520, 1480),
			party("5v5", "quad", 20, long, 1600, 1400, 1550, 1450),
			solo("5v5", "solo", 1505, 20, long),
		}},
	}
	for i, tc := range tests {
		t.Run(fmt.Sprintf("%s #%d", tc.mode, i), func(t *testing.T) {
			p := newTestPool(t, testMode(t, tc.mode))
			mustAdd(t, p, tc.tickets...)
			res := p.Pass(epoch)
			if len(res.Matches) != 1 || p.Len() != 0 {
				t.Fatalf("got %d matches and %d queued, want one match of everyone", len(res.Matches), p.Len())
			}
			mt := res.Matches[0]
			verifyMatch(t, p.Mode(), mt, epoch)
			want := bestPairDiff(tc.tickets, p.Mode().TeamSize)
			if got := teamSpread(mt); math.Abs(got-want) > 1e-6 {
				t.Errorf("team sums differ by %v, the best split differs by %v", got, want)
			}
		})
	}
}

func TestPassBalancesRandom5v5Exactly(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	m := testMode(t, "5v5")
	matched := 0
	for round := range 50 {
		p := newTestPool(t, m)
		var tickets []Ticket
		for players := 0; players < 10; {
			size := min(1+rng.IntN(3), 10-players)
			ratings := make([]float64, size)
			for i := range ratings {
				ratings[i] = 1500 + rng.NormFloat64()*120
			}
			tickets = append(tickets, party("5v5", fmt.Sprintf("r%d-%d", round, len(tickets)), 20, 100*time.Second, ratings...))
			players += size
		}
		mustAdd(t, p, tickets...)
		res := p.Pass(epoch)
		if len(res.Matches) != 1 {
			// Two parties of 3 with 4 more players can be unpackable
			// (3+3+2+2 is fine, 3+3+3+1 is not): then nothing may match.
			if bestPairDiff(tickets, 5) != math.Inf(1) {
				t.Fatalf("round %d: %d matches for a packable lobby", round, len(res.Matches))
			}
			continue
		}
		matched++
		verifyMatch(t, p.Mode(), res.Matches[0], epoch)
		if got, want := teamSpread(res.Matches[0]), bestPairDiff(tickets, 5); math.Abs(got-want) > 1e-6 {
			t.Fatalf("round %d: team sums differ by %v, the best split by %v", round, got, want)
		}
	}
	if matched < 25 {
		t.Fatalf("only %d of 50 random lobbies matched; the test checks too little", matched)
	}
}

func TestPassGreedyBalance(t *testing.T) {
	// Lobbies too large for exhaustive splits, and modes of more than two
	// teams, are balanced greedily and improved by swaps.
	modes := []Mode{
		{Name: "8v8", Teams: 2, TeamSize: 8, RatingWindow: 1000, MaxLatencyMs: 100, QueueTimeout: Duration(time.Minute)},
		{Name: "4x3", Teams: 4, TeamSize: 3, RatingWindow: 1000, MaxLatencyMs: 100, QueueTimeout: Duration(time.Minute)},
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for _, m := range modes {
		t.Run(m.Name, func(t *testing.T) {
			for round := range 30 {
				p := newTestPool(t, m)
				var tickets []Ticket
				full := m.Teams * m.TeamSize
				for players := 0; players < full; {
					size := 1
					if rng.IntN(4) == 0 {
						size = min(2, full-players)
					}
					ratings := make([]float64, size)
					for i := range ratings {
						ratings[i] = 1500 + rng.NormFloat64()*200
					}
					tickets = append(tickets, party(m.Name, fmt.Sprintf("g%d-%d", round, len(tickets)), 20, 0, ratings...))
					players += size
				}
				mustAdd(t, p, tickets...)
				res := p.Pass(epoch)
				if len(res.Matches) != 1 {
					t.Fatalf("round %d: %d matches, want 1", round, len(res.Matches))
				}
				verifyMatch(t, p.Mode(), res.Matches[0], epoch)
				checkNoImprovingSwap(t, res.Matches[0])
			}
		})
	}
}

func TestPassFreeForAllMinPlayers(t *testing.T) {
	// ffa8: 8 players, or 4+ once the anchor has waited 45s.
	tests := []struct {
		tickets  int
		wait     time.Duration
		sizes    []int // players per match
		leftOver int
	}{
		{5, 10 * time.Second, nil, 5},
		{5, 44 * time.Second, nil, 5},
		{5, 45 * time.Second, []int{5}, 0},
		{3, 100 * time.Second, nil, 3},
		{8, 0, []int{8}, 0},
		{9, 0, []int{8}, 1},
		{12, 50 * time.Second, []int{8, 4}, 0},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%d after %s", tc.tickets, tc.wait), func(t *testing.T) {
			p := newTestPool(t, testMode(t, "ffa8"))
			for i := range tc.tickets {
				mustAdd(t, p, solo("ffa8", fmt.Sprint("f", i), 1500+float64(i), 20, tc.wait))
			}
			res := p.Pass(epoch)
			var sizes []int
			for _, mt := range res.Matches {
				verifyMatch(t, p.Mode(), mt, epoch)
				sizes = append(sizes, len(mt.Teams))
			}
			if !slices.Equal(sizes, tc.sizes) || p.Len() != tc.leftOver {
				t.Fatalf("matches of %v players, %d left; want %v, %d", sizes, p.Len(), tc.sizes, tc.leftOver)
			}
		})
	}
}

func TestPassTimeouts(t *testing.T) {
	m := testMode(t, "duel") // times out after 2m
	p := newTestPool(t, m)
	mustAdd(t, p,
		solo("duel", "at-timeout", 1500, 20, 2*time.Minute),
		solo("duel", "lone", 3000, 20, 2*time.Minute-time.Nanosecond),
		solo("duel", "long-gone", 1500, 20, 3*time.Minute),
	)
	res := p.Pass(epoch)
	if len(res.Matches) != 0 {
		t.Errorf("timed-out tickets were matched: %v", matchedIDs(res))
	}
	var got []string
	for _, tk := range res.TimedOut {
		got = append(got, tk.ID)
	}
	if want := []string{"long-gone", "at-timeout"}; !slices.Equal(got, want) {
		t.Fatalf("TimedOut = %v, want %v (oldest first)", got, want)
	}
	if _, _, ok := p.Window("lone", epoch); !ok || p.Len() != 1 {
		t.Fatalf("ticket short of its timeout left the queue (Len %d)", p.Len())
	}
	if res := p.Pass(epoch.Add(time.Nanosecond)); len(res.TimedOut) != 1 || p.Len() != 0 {
		t.Fatalf("one nanosecond later: %d timed out, %d queued; want 1, 0", len(res.TimedOut), p.Len())
	}
	// A timed-out player may queue again.
	mustAdd(t, p, solo("duel", "long-gone", 1500, 20, 0))
}

func TestPassOldestFirst(t *testing.T) {
	// mid sits between lo and hi and can only join one of them: the older
	// of the two is the anchor and gets it.
	tests := []struct {
		name          string
		loWait, hiWai time.Duration
		want          []string
	}{
		{"lo older", 30 * time.Second, 20 * time.Second, []string{"lo", "mid"}},
		{"hi older", 20 * time.Second, 30 * time.Second, []string{"hi", "mid"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := newTestPool(t, testMode(t, "duel"))
			mustAdd(t, p,
				solo("duel", "mid", 1540, 20, time.Second),
				solo("duel", "lo", 1500, 20, tc.loWait),
				solo("duel", "hi", 1580, 20, tc.hiWai),
			)
			got := matchedIDs(p.Pass(epoch))
			want := slices.Clone(tc.want)
			slices.Sort(want)
			if len(got) != 1 || !slices.Equal(got[0], want) {
				t.Fatalf("matches %v, want [%v]", got, want)
			}
		})
	}
}

func TestPassPrefersOlderCandidateOnTie(t *testing.T) {
	p := newTestPool(t, testMode(t, "duel"))
	mustAdd(t, p,
		solo("duel", "anchor", 1500, 20, 30*time.Second),
		solo("duel", "young", 1520, 20, 5*time.Second),
		solo("duel", "old", 1480, 20, 8*time.Second),
	)
	got := matchedIDs(p.Pass(epoch))
	if len(got) != 1 || !slices.Equal(got[0], []string{"anchor", "old"}) {
		t.Fatalf("matches %v, want [[anchor old]]", got)
	}
}

func TestPassNearestRating(t *testing.T) {
	// Everyone is within everyone's window; pairs still go to the nearest.
	p := newTestPool(t, testMode(t, "duel"))
	mustAdd(t, p,
		solo("duel", "a", 1500, 20, 50*time.Second),
		solo("duel", "b", 1800, 20, 49*time.Second),
		solo("duel", "c", 1790, 20, 48*time.Second),
		solo("duel", "d", 1510, 20, 47*time.Second),
	)
	got := matchedIDs(p.Pass(epoch))
	want := [][]string{{"a", "d"}, {"b", "c"}}
	if !slices.EqualFunc(got, want, slices.Equal) {
		t.Fatalf("matches %v, want %v", got, want)
	}
}

func TestRequeuedTicketKeepsItsPlace(t *testing.T) {
	p := newTestPool(t, testMode(t, "duel"))
	mustAdd(t, p, solo("duel", "a", 1500, 20, 25*time.Second), solo("duel", "b", 1510, 20, 25*time.Second))
	res := p.Pass(epoch)
	if len(res.Matches) != 1 {
		t.Fatalf("got %d matches, want 1", len(res.Matches))
	}
	// The game server allocation failed: the cell puts the tickets back.
	mustAdd(t, p, res.Matches[0].Tickets...)
	if w, _, ok := p.Window("a", epoch); !ok || w != 200 {
		t.Fatalf("requeued ticket window = %v (ok %v), want the widened 200", w, ok)
	}
	// b left; two fresh tickets arrive with d between a and c. Were a
	// requeued as new, c would be the older anchor and take d.
	if !p.Remove("b") {
		t.Fatal("Remove(b) = false")
	}
	mustAdd(t, p, solo("duel", "c", 1580, 20, 2*time.Second), solo("duel", "d", 1540, 20, time.Second))
	got := matchedIDs(p.Pass(epoch))
	if len(got) != 1 || !slices.Equal(got[0], []string{"a", "d"}) {
		t.Fatalf("matches %v, want [[a d]]: the requeued ticket anchors first", got)
	}
}

func TestPassMakesRoomForParties(t *testing.T) {
	// The single nearest to the duo takes a seat first; the only way to
	// fill 2v2 is then to give it up for the second duo.
	p := newTestPool(t, testMode(t, "2v2"))
	mustAdd(t, p,
		party("2v2", "duo1", 20, 10*time.Second, 1500, 1500),
		solo("2v2", "single", 1501, 20, 0),
		party("2v2", "duo2", 20, 0, 1510, 1510),
	)
	got := matchedIDs(p.Pass(epoch))
	if len(got) != 1 || !slices.Equal(got[0], []string{"duo1", "duo2"}) {
		t.Fatalf("matches %v, want [[duo1 duo2]]", got)
	}
}
