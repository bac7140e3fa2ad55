package matchmaker

import (
	"cmp"
	"math"
	"math/bits"
	"slices"
)

// Bounds on team packing and balancing work per match.
const (
	// packSearchBudget caps the nodes of one party-packing search. Packing
	// parties into teams is bin packing; with symmetric teams pruned, real
	// lobbies need a few dozen nodes, and the cap keeps a pathological mix
	// of parties well under a millisecond. A search that runs out treats
	// the party as not fitting, so it waits for another match.
	packSearchBudget = 20_000
	// exactBalanceMaxTickets is the largest two-team match balanced by
	// trying every split (2^(n-1) splits): 5v5 of singles is 512, and at 14
	// tickets it is 8192, still microseconds. Larger or many-team matches use
	// greedy placement plus swaps.
	exactBalanceMaxTickets = 14
	// balanceSweeps bounds the swap-improvement sweeps of greedy balancing;
	// each sweep is quadratic in the lobby, and gains after a few sweeps
	// are negligible.
	balanceSweeps = 4
)

// packer decides whether parties fit into teams without splitting any.
type packer struct {
	teams, teamSize int
	sizes           []int // parties being placed, largest first
	free            []int // free seats per team
	nodes           int
}

func (p *packer) init(teams, teamSize int) {
	p.teams, p.teamSize = teams, teamSize
	p.free = slices.Grow(p.free[:0], teams)[:teams]
}

// feasible reports whether parties of the given sizes (each at most
// teamSize) can be seated in the teams, each party on one team. Singles are
// left out by callers: they fill any free seat.
func (p *packer) feasible(sizes []int) bool {
	total := 0
	for _, s := range sizes {
		total += s
	}
	if total > p.teams*p.teamSize {
		return false
	}
	if len(sizes) <= 1 {
		return true
	}
	p.sizes = append(p.sizes[:0], sizes...)
	slices.SortFunc(p.sizes, func(a, b int) int { return cmp.Compare(b, a) })
	for i := range p.free {
		p.free[i] = p.teamSize
	}
	p.nodes = 0
	return p.place(0)
}

// place seats parties i.. by depth-first search. Teams with the same free
// seats are interchangeable, so only the first of each is tried.
func (p *packer) place(i int) bool {
	if i == len(p.sizes) {
		return true
	}
	p.nodes++
	if p.nodes > packSearchBudget {
		return false
	}
	s := p.sizes[i]
	for t, f := range p.free {
		if f < s || slices.Contains(p.free[:t], f) {
			continue
		}
		p.free[t] -= s
		ok := p.place(i + 1)
		p.free[t] += s
		if ok {
			return true
		}
	}
	return false
}

// balancer splits a match's tickets into teams with rating sums as even
// as it can make them.
type balancer struct {
	assign []int     // team per member
	order  []int     // member indexes in placement order
	free   []int     // free seats per team
	sums   []float64 // rating sum per team
	size   []int     // per member: party size
	rating []float64 // per member: party rating sum
	nodes  int
}

// balance assigns each member (candidate indexes, rating order) to a team.
// It returns the team per member and the number of teams: one per player
// for free-for-all modes, Mode.Teams otherwise. ok is false only when a
// party mix that the packing check accepted exhausts the search budget here.
func (b *balancer) balance(m *Mode, cands []candidate, members []int32) (assign []int, teams int, ok bool) {
	n := len(members)
	b.assign = slices.Grow(b.assign[:0], n)[:n]
	if m.TeamSize == 1 {
		for i := range b.assign {
			b.assign[i] = i
		}
		return b.assign, n, true
	}
	b.size, b.rating = b.size[:0], b.rating[:0]
	for _, i := range members {
		b.size = append(b.size, cands[i].size)
		b.rating = append(b.rating, cands[i].sum)
	}
	if m.Teams == 2 && n <= exactBalanceMaxTickets {
		return b.assign, 2, b.exactPair(m.TeamSize)
	}
	if !b.greedy(m.Teams, m.TeamSize) {
		return nil, 0, false
	}
	b.improve()
	return b.assign, m.Teams, true
}

// exactPair tries every split of the members into two teams of teamSize
// players, walking the splits in Gray-code order so each differs from the
// previous by one member, and keeps the one with the smallest difference of
// rating sums. Member 0 stays on team 0 to skip mirrored splits.
func (b *balancer) exactPair(teamSize int) bool {
	n := len(b.size)
	var total float64
	for _, r := range b.rating {
		total += r
	}
	var mask uint32 // bit k set: member k+1 on team 0
	count, sum := b.size[0], b.rating[0]
	bestDiff, found := math.Inf(1), false
	var bestMask uint32
	consider := func() {
		if count != teamSize {
			return
		}
		if d := math.Abs(2*sum - total); d < bestDiff-ratingEpsilon {
			bestDiff, bestMask, found = d, mask, true
		}
	}
	consider()
	for k := uint32(1); k < 1<<(n-1); k++ {
		bit := uint32(bits.TrailingZeros32(k))
		mask ^= 1 << bit
		if mask&(1<<bit) != 0 {
			count += b.size[bit+1]
			sum += b.rating[bit+1]
		} else {
			count -= b.size[bit+1]
			sum -= b.rating[bit+1]
		}
		consider()
	}
	if !found {
		return false
	}
	b.assign[0] = 0
	for k := 1; k < n; k++ {
		b.assign[k] = 1
		if bestMask&(1<<(k-1)) != 0 {
			b.assign[k] = 0
		}
	}
	return true
}

// greedy seats parties first (largest and strongest first, each on the
// weakest team among those with distinct free seats, backtracking when the
// rest no longer fit), then singles strongest first on the weakest team
// with a free seat.
func (b *balancer) greedy(teams, teamSize int) bool {
	b.free = slices.Grow(b.free[:0], teams)[:teams]
	b.sums = slices.Grow(b.sums[:0], teams)[:teams]
	for t := range b.free {
		b.free[t], b.sums[t] = teamSize, 0
	}
	b.order = b.order[:0]
	for i := range b.size {
		b.order = append(b.order, i)
	}
	slices.SortFunc(b.order, func(x, y int) int {
		return cmp.Or(cmp.Compare(b.size[y], b.size[x]), cmp.Compare(b.rating[y], b.rating[x]), cmp.Compare(x, y))
	})
	parties := 0
	for parties < len(b.order) && b.size[b.order[parties]] > 1 {
		parties++
	}
	b.nodes = 0
	if !b.seat(b.order[:parties]) {
		return false
	}
	for _, i := range b.order[parties:] {
		best := -1
		for t := range b.free {
			if b.free[t] > 0 && (best < 0 || b.sums[t] < b.sums[best]) {
				best = t
			}
		}
		if best < 0 {
			return false
		}
		b.put(i, best)
	}
	return true
}

// seat places parties[0] and, recursively, the rest. Teams with the same
// free seats are interchangeable for packing, so of each such class only the
// weakest team is tried, weakest classes first.
func (b *balancer) seat(parties []int) bool {
	if len(parties) == 0 {
		return true
	}
	b.nodes++
	if b.nodes > packSearchBudget {
		return false
	}
	i := parties[0]
	s := b.size[i]
	// Bit f: the class of teams with f free seats was tried. Free seats
	// are at most MaxMatchPlayers/2 (teams ≥ 2), which fits in 64 bits.
	var tried uint64
	for {
		best := -1
		for t, f := range b.free {
			if f < s || tried&(1<<f) != 0 {
				continue
			}
			if best < 0 || b.sums[t] < b.sums[best] {
				best = t
			}
		}
		if best < 0 {
			return false
		}
		tried |= 1 << b.free[best]
		b.put(i, best)
		if b.seat(parties[1:]) {
			return true
		}
		b.take(i, best)
	}
}

func (b *balancer) put(i, t int) {
	b.assign[i] = t
	b.free[t] -= b.size[i]
	b.sums[t] += b.rating[i]
}

func (b *balancer) take(i, t int) {
	b.free[t] += b.size[i]
	b.sums[t] -= b.rating[i]
}

// improve swaps equal-sized tickets between teams while a swap lowers the
// sum of squared team sums, which for a fixed total is lowering the spread.
func (b *balancer) improve() {
	for range balanceSweeps {
		changed := false
		for i := range b.size {
			for j := i + 1; j < len(b.size); j++ {
				ti, tj := b.assign[i], b.assign[j]
				if ti == tj || b.size[i] != b.size[j] {
					continue
				}
				// Moving i to tj and j to ti shifts d from ti to tj.
				d := b.rating[i] - b.rating[j]
				if d*(b.sums[ti]-b.sums[tj]-d) > ratingEpsilon {
					b.sums[ti] -= d
					b.sums[tj] += d
					b.assign[i], b.assign[j] = tj, ti
					changed = true
				}
			}
		}
		if !changed {
			return
		}
	}
}
