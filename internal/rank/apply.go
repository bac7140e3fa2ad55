package rank

// Op is how a new value combines with a player's current score.
type Op int

// The operators. The zero value is Best.
const (
	// Best keeps the better of the current score and the new value (higher
	// in Desc, lower in Asc): personal bests.
	Best Op = iota
	// Set replaces the score with the latest result's value.
	Set
	// Increment adds the new value to the score: totals (kills, wins).
	Increment
)

// Combine returns the entry id has after applying value, from a result
// at time updated, to cur (existed says whether there is one), and whether
// it changed. Every operator is order-independent, so a replay or a
// reordered, late delivery gives the same board:
//
//   - Best keeps the better score; Updated is the earliest time that score
//     was reached (who got there first ranks first in a tie).
//   - Set keeps the value of the latest result (the greater updated; equal
//     times keep the greater value); Updated is that result's time.
//   - Increment adds; Updated is the latest result's time (a zero counts:
//     the player played).
func Combine(order Order, op Op, cur Entry, existed bool, id string, value, updated int64) (Entry, bool) {
	if !existed {
		return Entry{ID: id, Score: value, Updated: updated}, true
	}
	next := cur
	switch op {
	case Best:
		better := (order == Desc && value > cur.Score) || (order == Asc && value < cur.Score)
		switch {
		case better:
			next = Entry{ID: id, Score: value, Updated: updated}
		case value == cur.Score:
			next.Updated = min(cur.Updated, updated)
		}
	case Set:
		if updated > cur.Updated || (updated == cur.Updated && value > cur.Score) {
			next = Entry{ID: id, Score: value, Updated: updated}
		}
	case Increment:
		next = Entry{ID: id, Score: cur.Score + value, Updated: max(cur.Updated, updated)}
	}
	return next, next != cur
}

// Apply combines value into id's entry with op (see Combine), stores the
// result and returns it.
func (x *Index) Apply(op Op, id string, value, updated int64) Entry {
	cur, existed := x.Get(id)
	next, changed := Combine(x.order, op, cur, existed, id, value, updated)
	if changed {
		x.Upsert(next)
	}
	return next
}

// Clear empties the index (a season reset).
func (x *Index) Clear() {
	*x = *New(x.order)
}
