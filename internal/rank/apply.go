package rank

// Op is how a new value combines with a player's current score.
type Op int

// The operators. The zero value is Best.
const (
	// Best keeps the better of the current score and the new value (higher
	// in Desc, lower in Asc): personal bests.
	Best Op = iota
	// Set replaces the score with the new value: the latest result counts.
	Set
	// Increment adds the new value to the score: totals (kills, wins).
	Increment
)

// Combine returns the entry id would have after applying value at time
// updated to cur (existed says whether there is a current entry), and
// whether it differs from cur. Updated moves only when the score changes, so
// a player who merely repeats their score keeps their place in a tie.
func Combine(order Order, op Op, cur Entry, existed bool, id string, value, updated int64) (Entry, bool) {
	if !existed {
		return Entry{ID: id, Score: value, Updated: updated}, true
	}
	next := cur.Score
	switch op {
	case Best:
		if (order == Desc && value > cur.Score) || (order == Asc && value < cur.Score) {
			next = value
		}
	case Set:
		next = value
	case Increment:
		next = cur.Score + value
	}
	if next == cur.Score {
		return cur, false
	}
	return Entry{ID: id, Score: next, Updated: updated}, true
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
