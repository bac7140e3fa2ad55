// Package rank owns the order-statistic index behind leaderboards: a B+tree
// whose inner nodes count their subtrees, so it inserts, updates, deletes,
// ranks and selects by rank in O(log n).
package rank

import "sort"

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
	// (the smaller value, e.g. Unix microseconds) ranks first.
	Updated int64
}

// Tie order. Two entries never share a rank: equal scores rank the earlier
// Updated first, and equal Updated too ranks the smaller ID (byte-wise)
// first. This is the same in both orders: Asc flips the score only, never the
// tie-breakers, so "whoever got there first" wins a tie on every board.

// maxLeaf and maxInner bound a node: 64 entries of 40 bytes and 64 child
// counts keep a node's binary search within a few cache lines, and a
// 1,000,000-entry board four levels deep.
const (
	maxLeaf  = 64
	maxInner = 64
)

// node is a leaf (entries) or an inner node (children, their entry counts
// and separators: every entry of children[i] ranks before seps[i], which
// ranks no later than every entry of children[i+1]).
type node struct {
	entries  []Entry
	children []*node
	counts   []int
	seps     []Entry
}

func (n *node) leaf() bool { return n.children == nil }

// Index is an order-statistic B+tree of entries keyed by ID. It is not safe
// for concurrent use: callers hold their own lock. Reads never modify it,
// so concurrent reads under a read lock are safe.
type Index struct {
	order Order
	root  *node
	byID  map[string]Entry
}

// New returns an empty index sorted in order.
func New(order Order) *Index {
	return &Index{order: order, root: &node{}, byID: map[string]Entry{}}
}

// Order is the index's sort order.
func (x *Index) Order() Order { return x.order }

// Len is the number of entries.
func (x *Index) Len() int { return len(x.byID) }

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

// Get returns the entry of id.
func (x *Index) Get(id string) (Entry, bool) {
	e, ok := x.byID[id]
	return e, ok
}

// Upsert inserts e or replaces the entry with e.ID, and returns the entry it
// replaced.
func (x *Index) Upsert(e Entry) (prev Entry, existed bool) {
	if prev, existed = x.byID[e.ID]; existed {
		if prev == e {
			return prev, true
		}
		x.remove(prev)
	}
	x.insert(e)
	return prev, existed
}

// Delete removes id's entry and reports whether there was one.
func (x *Index) Delete(id string) bool {
	e, ok := x.byID[id]
	if ok {
		x.remove(e)
	}
	return ok
}

// child is the index of the child of inner node n whose range holds e.
func (x *Index) child(n *node, e Entry) int {
	return sort.Search(len(n.seps), func(i int) bool { return x.Less(e, n.seps[i]) })
}

func (x *Index) insert(e Entry) {
	x.byID[e.ID] = e
	if right, sep, split := x.insertInto(x.root, e); split {
		left := x.root
		x.root = &node{children: []*node{left, right}, counts: []int{count(left), count(right)}, seps: []Entry{sep}}
	}
}

func count(n *node) int {
	if n.leaf() {
		return len(n.entries)
	}
	total := 0
	for _, c := range n.counts {
		total += c
	}
	return total
}

// insertInto adds e under n; when n overflows it splits, returning the new
// right sibling and the separator between them.
func (x *Index) insertInto(n *node, e Entry) (*node, Entry, bool) {
	if n.leaf() {
		i := sort.Search(len(n.entries), func(i int) bool { return x.Less(e, n.entries[i]) })
		n.entries = append(n.entries, Entry{})
		copy(n.entries[i+1:], n.entries[i:])
		n.entries[i] = e
		if len(n.entries) <= maxLeaf {
			return nil, Entry{}, false
		}
		// Both halves get fresh arrays with room to grow back to a split.
		mid := len(n.entries) / 2
		right := &node{entries: append(make([]Entry, 0, maxLeaf+1), n.entries[mid:]...)}
		n.entries = append(make([]Entry, 0, maxLeaf+1), n.entries[:mid]...)
		return right, right.entries[0], true
	}
	i := x.child(n, e)
	n.counts[i]++
	right, sep, split := x.insertInto(n.children[i], e)
	if !split {
		return nil, Entry{}, false
	}
	n.counts[i] = count(n.children[i])
	n.children = insertAt(n.children, i+1, right)
	n.counts = insertAt(n.counts, i+1, count(right))
	n.seps = insertAt(n.seps, i, sep)
	if len(n.children) <= maxInner {
		return nil, Entry{}, false
	}
	mid := len(n.children) / 2
	up := n.seps[mid-1]
	r := &node{
		children: append([]*node(nil), n.children[mid:]...),
		counts:   append([]int(nil), n.counts[mid:]...),
		seps:     append([]Entry(nil), n.seps[mid:]...),
	}
	n.children = append([]*node(nil), n.children[:mid]...)
	n.counts = append([]int(nil), n.counts[:mid]...)
	n.seps = append([]Entry(nil), n.seps[:mid-1]...)
	return r, up, true
}

func insertAt[T any](s []T, i int, v T) []T {
	var zero T
	s = append(s, zero)
	copy(s[i+1:], s[i:])
	s[i] = v
	return s
}

func removeAt[T any](s []T, i int) []T {
	copy(s[i:], s[i+1:])
	var zero T
	s[len(s)-1] = zero
	return s[:len(s)-1]
}

// remove unlinks e, which is in the index. Emptied nodes are removed from
// their parents; underfull nodes are not merged (the height never grows on
// deletes, so lookups stay O(log of the largest size)).
func (x *Index) remove(e Entry) {
	delete(x.byID, e.ID)
	x.removeFrom(x.root, e)
	for !x.root.leaf() && len(x.root.children) == 1 {
		x.root = x.root.children[0]
	}
	if !x.root.leaf() && len(x.root.children) == 0 {
		x.root = &node{}
	}
}

// removeFrom removes e under n and reports whether n is now empty.
func (x *Index) removeFrom(n *node, e Entry) bool {
	if n.leaf() {
		i := sort.Search(len(n.entries), func(i int) bool { return !x.Less(n.entries[i], e) })
		n.entries = removeAt(n.entries, i)
		return len(n.entries) == 0
	}
	i := x.child(n, e)
	n.counts[i]--
	if x.removeFrom(n.children[i], e) {
		n.children = removeAt(n.children, i)
		n.counts = removeAt(n.counts, i)
		if len(n.seps) > 0 {
			n.seps = removeAt(n.seps, max(i-1, 0))
		}
	}
	return len(n.children) == 0
}

// Rank returns id's 1-based rank.
func (x *Index) Rank(id string) (int, bool) {
	e, ok := x.byID[id]
	if !ok {
		return 0, false
	}
	return x.CountBefore(e) + 1, true
}

// CountBefore is how many entries rank strictly before e, which need not be
// in the index: the rank a cursor resumes after is CountBefore(last)+1.
func (x *Index) CountBefore(e Entry) int {
	n, before := x.root, 0
	for !n.leaf() {
		i := sort.Search(len(n.seps), func(i int) bool { return !x.Less(n.seps[i], e) })
		// Children before i end before their separator, which ranks before
		// e; children after i start at or after seps[i], which does not.
		for _, c := range n.counts[:i] {
			before += c
		}
		n = n.children[i]
	}
	return before + sort.Search(len(n.entries), func(i int) bool { return !x.Less(n.entries[i], e) })
}

// At returns the entry at 1-based rank.
func (x *Index) At(rank int) (Entry, bool) {
	if rank < 1 || rank > x.Len() {
		return Entry{}, false
	}
	n, k := x.root, rank-1
	for !n.leaf() {
		i := 0
		for k >= n.counts[i] {
			k -= n.counts[i]
			i++
		}
		n = n.children[i]
	}
	return n.entries[k], true
}

// Range returns up to n entries from 1-based rank on, in rank order.
func (x *Index) Range(rank, n int) []Entry {
	if n <= 0 {
		return nil
	}
	if rank < 1 {
		rank = 1
	}
	out := make([]Entry, 0, min(n, max(x.Len()-rank+1, 0)))
	x.walk(x.root, rank-1, func(e Entry) bool {
		out = append(out, e)
		return len(out) < n
	})
	return out
}

// Each calls f for every entry in rank order until f returns false.
func (x *Index) Each(f func(Entry) bool) { x.walk(x.root, 0, f) }

// walk calls f for the entries of n in order, skipping the first skip, until
// f returns false; it reports whether to go on.
func (x *Index) walk(n *node, skip int, f func(Entry) bool) bool {
	if n.leaf() {
		for i := skip; i < len(n.entries); i++ {
			if !f(n.entries[i]) {
				return false
			}
		}
		return true
	}
	for i, c := range n.children {
		if skip >= n.counts[i] {
			skip -= n.counts[i]
			continue
		}
		if !x.walk(c, skip, f) {
			return false
		}
		skip = 0
	}
	return true
}

// Around returns a page of up to n entries centred on id (shifted to stay
// full at either end of the board), the rank of its first entry and id's
// rank; ok is false when id is not ranked.
func (x *Index) Around(id string, n int) (page []Entry, first, rank int, ok bool) {
	rank, ok = x.Rank(id)
	if !ok {
		return nil, 0, 0, false
	}
	first = max(1, min(rank-(n-1)/2, x.Len()-n+1))
	return x.Range(first, n), first, rank, true
}
