package matchmaker

// slabChunk is how many elements each slab chunk holds: large enough that
// a Pass over 100k tickets allocates a few dozen chunks, small enough that
// a Pass forming one match does not allocate megabytes.
const slabChunk = 4096

// builder turns chosen members into Matches. Every match's tickets, teams
// and slots are cut from shared chunks, so a Pass allocates a few arrays
// instead of several slices per match, and never copies them to grow.
type builder struct {
	mode    string
	matches []Match
	tickets []Ticket
	teams   []Team
	slots   []Slot
}

func (r *builder) reset(m *Mode) { *r = builder{mode: m.Name} }

// cut returns the next n elements of *chunk, starting a new chunk when the
// current one is too short; the returned slice cannot grow into the next.
func cut[T any](chunk *[]T, n int) []T {
	if cap(*chunk)-len(*chunk) < n {
		*chunk = make([]T, 0, max(slabChunk, n))
	}
	l := len(*chunk)
	*chunk = (*chunk)[:l+n]
	return (*chunk)[l : l+n : l+n]
}

// add records the match of members (candidate indexes, rating order) with
// member k on team assign[k].
func (r *builder) add(cands []candidate, members []int32, assign []int, teams int) {
	tickets := cut(&r.tickets, len(members))
	players, total := 0, 0.0
	for k, i := range members {
		tickets[k] = cands[i].e.t
		players += cands[i].size
		total += cands[i].sum
	}
	slots := cut(&r.slots, players)
	ts := cut(&r.teams, teams)
	n := 0
	for t := range ts {
		start := n
		var sum float64
		for k, i := range members {
			if assign[k] != t {
				continue
			}
			tk := &cands[i].e.t
			for _, pl := range tk.Players {
				slots[n] = Slot{TicketID: tk.ID, PlayerID: pl.ID, Rating: pl.Rating}
				sum += pl.Rating
				n++
			}
		}
		ts[t] = Team{Players: slots[start:n:n], RatingSum: sum}
	}
	if len(r.matches) == cap(r.matches) {
		// Double rather than let append grow by a quarter: the result
		// of a large Pass would otherwise be copied dozens of times.
		grown := make([]Match, len(r.matches), max(2*cap(r.matches), 64))
		copy(grown, r.matches)
		r.matches = grown
	}
	r.matches = append(r.matches, Match{Mode: r.mode, Teams: ts, Tickets: tickets, MeanRating: total / float64(players)})
}
