package ratelimit

import (
	"fmt"
	"hash/maphash"
	"math"
	"sync"
	"time"
)

// Limiter limits.
const (
	// maxShards is 64: well above the core count of the servers Atoll
	// runs on, so two requests rarely wait on one lock, while each shard
	// still gets a useful share of maxKeys.
	maxShards = 64
	// MaxKeys bounds New's maxKeys at 16M entries (~1.1 GiB at the ~70
	// bytes each measured): beyond that the table itself is the outage.
	MaxKeys = 1 << 24
	// minShardKeys is the fewest keys a shard holds (unless maxKeys is
	// smaller): eviction needs a choice, and with one or two entries per
	// shard "smallest TAT" degenerates into "the newest key wins", letting
	// a flood evict a throttled key.
	minShardKeys = 64
	// maxOffset clamps now's distance from the Limiter's creation to
	// about 73 years, so a zero or absurd time.Time cannot overflow the
	// TAT arithmetic (which adds at most maxSpan to it).
	maxOffset = math.MaxInt64 / 4
)

// Limiter is a set of GCRA token buckets, one per key, in a table of at
// most maxKeys entries. It is safe for concurrent use.
//
// Why GCRA rather than golang.org/x/time/rate: a bucket is one int64 (the
// theoretical arrival time, TAT) instead of a mutex-guarded struct of
// floats, the arithmetic is exact integer nanoseconds, retryAfter falls
// out of one subtraction, and, below, the TAT orders keys by how much
// state evicting them would lose.
//
// When a shard is full, the key with the smallest TAT is evicted: a key
// whose TAT has passed holds a full bucket and forgets nothing, and
// otherwise the evicted key is the one closest to full. A flood of
// distinct keys (one request each, TAT = now + one interval) therefore
// evicts its own kind first, and a key being throttled (TAT far ahead)
// keeps its state unless the flood throttles more keys harder than it.
//
// Keys are stored as 64-bit seeded hashes, so memory per key does not
// depend on key length. Two keys colliding (probability about
// n²/2⁶⁵ for n keys) share a bucket, which is stricter, never looser.
type Limiter struct {
	off      bool
	interval int64 // ns per event
	span     int64 // ns for an empty bucket to refill: interval × burst
	base     time.Time
	seed     maphash.Seed
	shards   []shard
}

// shard is one lock's worth of the key table: a map for lookup and a
// binary min-heap on TAT for eviction.
type shard struct {
	mu      sync.Mutex // guards following
	entries map[uint64]*entry
	heap    []*entry
	cap     int
	// Keep neighbouring shards' locks off one cache line.
	_ [64]byte
}

type entry struct {
	key uint64
	tat int64 // ns after Limiter.base
	idx int   // position in shard.heap
}

// New returns a Limiter allowing rate per key and tracking at most maxKeys
// keys (1 to MaxKeys). An Off rate returns a Limiter that allows
// everything and ignores maxKeys.
func New(rate Rate, maxKeys int) (*Limiter, error) {
	if err := rate.Validate(); err != nil {
		return nil, fmt.Errorf("new rate limiter: %w", err)
	}
	if rate.IsOff() {
		return &Limiter{off: true}, nil
	}
	if maxKeys < 1 || maxKeys > MaxKeys {
		return nil, fmt.Errorf("new rate limiter: maxKeys %d outside [1, %d]", maxKeys, MaxKeys)
	}
	n := max(1, min(maxShards, maxKeys/minShardKeys))
	l := &Limiter{
		interval: int64(rate.interval()),
		span:     int64(rate.interval()) * int64(rate.Burst),
		base:     time.Now(),
		seed:     maphash.MakeSeed(),
		shards:   make([]shard, n),
	}
	for i := range l.shards {
		// Spread maxKeys exactly, so the total never exceeds it.
		c := maxKeys / n
		if i < maxKeys%n {
			c++
		}
		l.shards[i].cap = c
		l.shards[i].entries = make(map[uint64]*entry)
	}
	return l, nil
}

// Allow reports whether an event for key at now is within the rate, and
// consumes a token if so. When it is not, retryAfter is how long after now
// the next event for key would be allowed. now should come from one clock
// (time.Now in production; tests may inject a fake one).
func (l *Limiter) Allow(key string, now time.Time) (ok bool, retryAfter time.Duration) {
	if l.off {
		return true, 0
	}
	h := maphash.String(l.seed, key)
	s := &l.shards[h%uint64(len(l.shards))]
	t := min(max(int64(now.Sub(l.base)), -maxOffset), maxOffset)

	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.entries[h]
	tat := t
	if e != nil && e.tat > t {
		tat = e.tat
	}
	next := tat + l.interval
	if allowAt := next - l.span; allowAt > t {
		return false, time.Duration(allowAt - t)
	}
	switch {
	case e != nil:
		e.tat = next
		s.down(e.idx) // TAT only grows
	case len(s.heap) < s.cap:
		e = &entry{key: h, tat: next, idx: len(s.heap)}
		s.entries[h] = e
		s.heap = append(s.heap, e)
		s.up(e.idx)
	default:
		// Full: reuse the smallest-TAT entry for the new key.
		e = s.heap[0]
		delete(s.entries, e.key)
		e.key, e.tat = h, next
		s.entries[h] = e
		s.down(0)
	}
	return true, 0
}

// Len returns how many keys the Limiter tracks: at most maxKeys (slightly
// fewer once full, as each shard holds its share); some may be idle with
// full buckets, kept until their space is needed.
func (l *Limiter) Len() int {
	n := 0
	for i := range l.shards {
		s := &l.shards[i]
		s.mu.Lock()
		n += len(s.heap)
		s.mu.Unlock()
	}
	return n
}

// up restores the heap after heap[i]'s TAT decreased or it was appended.
func (s *shard) up(i int) {
	for i > 0 {
		p := (i - 1) / 2
		if s.heap[p].tat <= s.heap[i].tat {
			return
		}
		s.swap(i, p)
		i = p
	}
}

// down restores the heap after heap[i]'s TAT increased.
func (s *shard) down(i int) {
	n := len(s.heap)
	for {
		least := i
		if l := 2*i + 1; l < n && s.heap[l].tat < s.heap[least].tat {
			least = l
		}
		if r := 2*i + 2; r < n && s.heap[r].tat < s.heap[least].tat {
			least = r
		}
		if least == i {
			return
		}
		s.swap(i, least)
		i = least
	}
}

func (s *shard) swap(i, j int) {
	s.heap[i], s.heap[j] = s.heap[j], s.heap[i]
	s.heap[i].idx = i
	s.heap[j].idx = j
}
