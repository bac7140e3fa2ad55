package rank

import (
	"slices"
	"sync"
)

// Boards is a concurrency-safe collection of indexes keyed by (board, season):
// every season of every board of one service.
type Boards struct {
	mu  sync.RWMutex // guards following
	idx map[seasonKey]*Index
}

type seasonKey struct{ board, season string }

// NewBoards returns an empty set.
func NewBoards() *Boards { return &Boards{idx: map[seasonKey]*Index{}} }

func (s *Boards) index(board, season string, order Order) *Index {
	k := seasonKey{board, season}
	x, ok := s.idx[k]
	if !ok {
		x = New(order)
		s.idx[k] = x
	}
	return x
}

// Apply combines value into id's entry of the board's season (created with
// order if new) and returns the resulting entry.
func (s *Boards) Apply(board, season string, order Order, op Op, id string, value, updated int64) Entry {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.index(board, season, order).Apply(op, id, value, updated)
}

// Upsert stores e as is in the board's season (created with order if new).
func (s *Boards) Upsert(board, season string, order Order, e Entry) {
	s.mu.Lock()
	s.index(board, season, order).Upsert(e)
	s.mu.Unlock()
}

// Delete removes id from one board's season.
func (s *Boards) Delete(board, season, id string) {
	s.mu.Lock()
	if x, ok := s.idx[seasonKey{board, season}]; ok {
		x.Delete(id)
	}
	s.mu.Unlock()
}

// RemovePlayer removes id from every season of every board and returns how
// many entries it removed.
func (s *Boards) RemovePlayer(id string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, x := range s.idx {
		if x.Delete(id) {
			n++
		}
	}
	return n
}

// Seasons lists the board's seasons in ascending order of their ids.
func (s *Boards) Seasons(board string) []string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []string
	for k := range s.idx {
		if k.board == board {
			out = append(out, k.season)
		}
	}
	slices.Sort(out)
	return out
}

// Has reports whether the board's season exists (has ever had an entry).
func (s *Boards) Has(board, season string) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	_, ok := s.idx[seasonKey{board, season}]
	return ok
}

// DropSeason forgets one season of a board.
func (s *Boards) DropSeason(board, season string) {
	s.mu.Lock()
	delete(s.idx, seasonKey{board, season})
	s.mu.Unlock()
}

// Read calls f with the board's season under the read lock; x is nil when
// the season has no entries yet. f must not keep x.
func (s *Boards) Read(board, season string, f func(x *Index)) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	f(s.idx[seasonKey{board, season}])
}

// Snapshot copies every season's entries in rank order, keyed by board then
// season.
func (s *Boards) Snapshot() map[string]map[string][]Entry {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := map[string]map[string][]Entry{}
	for k, x := range s.idx {
		if out[k.board] == nil {
			out[k.board] = map[string][]Entry{}
		}
		es := make([]Entry, 0, x.Len())
		x.Each(func(e Entry) bool { es = append(es, e); return true })
		out[k.board][k.season] = es
	}
	return out
}

// After returns up to n entries that rank strictly after key (from the top
// when key is nil), the rank of the first one, and whether more follow.
func (x *Index) After(key *Entry, n int) (page []Entry, first int, more bool) {
	first = 1
	if key != nil {
		first = x.CountBefore(*key) + 1
		if e, ok := x.byID[key.ID]; ok && e == *key {
			first++ // the key itself is still ranked: skip it
		}
	}
	page = x.Range(first, n)
	return page, first, first+len(page)-1 < x.Len()
}
