// Package rank owns the order-statistic index behind leaderboards: a skip
// list with span counts that inserts, updates, deletes, ranks and selects by
// rank in O(log n).
package rank

// Order is the direction a board sorts scores in.
type Order int

// The sort orders. The zero value is Desc: most boards rank the highest
// score first.
const (
	// Desc ranks the highest score first (points, kills).
	Desc Order = iota
	// Asc ranks the lowest score first (lap times, deaths).
	Asc
)

// Entry is one ranked player.
type Entry struct {
	// ID identifies the player; unique in an index.
	ID string
	// Score is the ranked value.
	Score int64
	// Updated orders equal scores: the entry that reached its score first
	// (the smaller value, e.g. Unix nanoseconds) ranks first.
	Updated int64
}

// Tie order. Two entries never share a rank: equal scores rank the earlier
// Updated first, and equal Updated too ranks the smaller ID (byte-wise)
// first. This is the same in both orders: Asc flips the score only, never the
// tie-breakers, so "whoever got there first" wins a tie on every board.

// maxLevel bounds a node's tower: with p = 1/4, 32 levels index 4^32 entries,
// far beyond any board.
const maxLevel = 32

type link struct {
	next *node
	span int // how many entries the link skips over, counting next itself
}

type node struct {
	e     Entry
	links []link
}

// Index is an order-statistic skip list of entries keyed by ID. It is not
// safe for concurrent use: callers hold their own lock.
type Index struct {
	order  Order
	head   *node
	level  int
	length int
	byID   map[string]*node
	rng    uint64
	update [maxLevel]*node // scratch for insert and delete
	ranks  [maxLevel]int   // scratch for insert
}

// New returns an empty index sorted in order.
func New(order Order) *Index {
	return &Index{
		order: order,
		head:  &node{links: make([]link, maxLevel)},
		level: 1,
		byID:  map[string]*node{},
		rng:   0x9E3779B97F4A7C15,
	}
}

// Order is the index's sort order.
func (x *Index) Order() Order { return x.order }

// Len is the number of entries.
func (x *Index) Len() int { return x.length }

// Less reports whether a ranks before b in x's order (see the tie order).
func (x *Index) Less(a, b Entry) bool {
	if a.Score != b.Score {
		if x.order == Asc {
			return a.Score < b.Score
		}
		return a.Score > b.Score
	}
	if a.Updated != b.Updated {
		return a.Updated < b.Updated
	}
	return a.ID < b.ID
}

func (x *Index) randomLevel() int {
	lvl := 1
	for lvl < maxLevel {
		// xorshift64: levels need no unpredictability, only independence
		// from the keys.
		x.rng ^= x.rng << 13
		x.rng ^= x.rng >> 7
		x.rng ^= x.rng << 17
		if x.rng&3 != 0 {
			break
		}
		lvl++
	}
	return lvl
}

// Get returns the entry of id.
func (x *Index) Get(id string) (Entry, bool) {
	n, ok := x.byID[id]
	if !ok {
		return Entry{}, false
	}
	return n.e, true
}

// Upsert inserts e or replaces the entry with e.ID, and returns the entry it
// replaced.
func (x *Index) Upsert(e Entry) (prev Entry, existed bool) {
	if n, ok := x.byID[e.ID]; ok {
		prev = n.e
		if prev == e {
			return prev, true
		}
		x.remove(prev)
		existed = true
	}
	x.insert(e)
	return prev, existed
}

// Delete removes id's entry and reports whether there was one.
func (x *Index) Delete(id string) bool {
	n, ok := x.byID[id]
	if !ok {
		return false
	}
	x.remove(n.e)
	return true
}

func (x *Index) insert(e Entry) {
	n := x.head
	for i := x.level - 1; i >= 0; i-- {
		if i == x.level-1 {
			x.ranks[i] = 0
		} else {
			x.ranks[i] = x.ranks[i+1]
		}
		for n.links[i].next != nil && x.Less(n.links[i].next.e, e) {
			x.ranks[i] += n.links[i].span
			n = n.links[i].next
		}
		x.update[i] = n
	}
	lvl := x.randomLevel()
	if lvl > x.level {
		for i := x.level; i < lvl; i++ {
			x.ranks[i] = 0
			x.update[i] = x.head
			x.head.links[i].span = x.length
		}
		x.level = lvl
	}
	nn := &node{e: e, links: make([]link, lvl)}
	for i := 0; i < lvl; i++ {
		u := x.update[i]
		nn.links[i].next = u.links[i].next
		u.links[i].next = nn
		nn.links[i].span = u.links[i].span - (x.ranks[0] - x.ranks[i])
		u.links[i].span = x.ranks[0] - x.ranks[i] + 1
	}
	for i := lvl; i < x.level; i++ {
		x.update[i].links[i].span++
	}
	x.byID[e.ID] = nn
	x.length++
}

// remove unlinks the node holding exactly e.
func (x *Index) remove(e Entry) {
	n := x.head
	for i := x.level - 1; i >= 0; i-- {
		for n.links[i].next != nil && x.Less(n.links[i].next.e, e) {
			n = n.links[i].next
		}
		x.update[i] = n
	}
	target := n.links[0].next
	for i := 0; i < x.level; i++ {
		u := x.update[i]
		if u.links[i].next == target {
			u.links[i].span += target.links[i].span - 1
			u.links[i].next = target.links[i].next
		} else {
			u.links[i].span--
		}
	}
	for x.level > 1 && x.head.links[x.level-1].next == nil {
		x.level--
	}
	delete(x.byID, e.ID)
	x.length--
}

// Rank returns id's 1-based rank.
func (x *Index) Rank(id string) (int, bool) {
	n, ok := x.byID[id]
	if !ok {
		return 0, false
	}
	return x.CountBefore(n.e) + 1, true
}

// CountBefore is how many entries rank strictly before e, which need not be
// in the index: the rank a cursor resumes after is CountBefore(last)+1.
func (x *Index) CountBefore(e Entry) int {
	n, rank := x.head, 0
	for i := x.level - 1; i >= 0; i-- {
		for n.links[i].next != nil && x.Less(n.links[i].next.e, e) {
			rank += n.links[i].span
			n = n.links[i].next
		}
	}
	return rank
}

// At returns the entry at 1-based rank.
func (x *Index) At(rank int) (Entry, bool) {
	n := x.nodeAt(rank)
	if n == nil {
		return Entry{}, false
	}
	return n.e, true
}

func (x *Index) nodeAt(rank int) *node {
	if rank < 1 || rank > x.length {
		return nil
	}
	n, traversed := x.head, 0
	for i := x.level - 1; i >= 0; i-- {
		for n.links[i].next != nil && traversed+n.links[i].span <= rank {
			traversed += n.links[i].span
			n = n.links[i].next
		}
		if traversed == rank {
			return n
		}
	}
	return nil
}

// Range returns up to n entries from 1-based rank on, in rank order.
func (x *Index) Range(rank, n int) []Entry {
	if n <= 0 {
		return nil
	}
	if rank < 1 {
		rank = 1
	}
	nd := x.nodeAt(rank)
	out := make([]Entry, 0, min(n, max(x.length-rank+1, 0)))
	for ; nd != nil && len(out) < n; nd = nd.links[0].next {
		out = append(out, nd.e)
	}
	return out
}

// Each calls f for every entry in rank order until f returns false.
func (x *Index) Each(f func(Entry) bool) {
	for n := x.head.links[0].next; n != nil; n = n.links[0].next {
		if !f(n.e) {
			return
		}
	}
}

// Around returns a page of up to n entries centred on id (shifted to stay
// full at either end of the board), the rank of its first entry and id's
// rank; ok is false when id is not ranked.
func (x *Index) Around(id string, n int) (page []Entry, first, rank int, ok bool) {
	rank, ok = x.Rank(id)
	if !ok {
		return nil, 0, 0, false
	}
	first = max(1, min(rank-(n-1)/2, x.length-n+1))
	return x.Range(first, n), first, rank, true
}
