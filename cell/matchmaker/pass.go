package matchmaker

import (
	"cmp"
	"slices"
	"time"
)

// Pass scratch retention: a Pool keeps its Pass scratch sized for its
// queue, but drops it when it is more than scratchShrink times larger than
// the queue plus scratchKeep entries, so a queue that drained after a peak
// does not pin megabytes.
const (
	scratchShrink = 4
	scratchKeep   = 1024
)

// candidate is a ticket taking part in one Pass: eligible (not timed out,
// latency within its current limit) and sorted by rating.
type candidate struct {
	e      *entry
	rating float64 // party mean
	sum    float64 // party rating sum
	window float64 // current rating window
	wait   time.Duration
	seq    uint64
	size   int
	// prev and next link the untaken candidates in rating order, so the
	// search around an anchor never walks over tickets already matched
	// in this Pass; -1 ends the list.
	prev, next int32
	taken      bool
}

// passState is the scratch of one Pass, kept in the Pool so that a Pass
// over a large queue reuses its slices instead of allocating them again.
type passState struct {
	mode      *Mode
	cands     []candidate // eligible tickets by rating
	order     []int32     // indexes into cands, oldest first
	maxWindow float64     // widest current window among cands
	timedOut  []*entry

	form   former
	teams  balancer
	result builder
}

// Pass runs one round of matchmaking at now: it returns the tickets that
// waited QueueTimeout or longer, then forms matches around every eligible
// ticket, oldest first, and removes everything it returns from the queue.
//
// A ticket is eligible when its latency is within its current limit
// (MaxLatencyAt its wait). A set of eligible tickets forms a match when it
// holds MaxPlayers players (or, around an anchor that has waited
// MinPlayersAfter, at least MinPlayers) that pack into teams with every party
// on one team, and every ticket's party rating lies within its own current
// rating window of the match's mean player rating.
//
// Each anchor looks only at the untaken tickets nearest to it in rating
// order, grows a set from itself by taking the one nearest the set's mean
// (the older on a tie), and repairs it by dropping members outside their
// windows; the search per anchor is bounded, so a Pass is O(n log n) in the
// queue size. Teams are then balanced to minimise the difference of their
// rating sums: exactly for two teams of up to exactBalanceMaxTickets
// tickets, greedily with improving swaps otherwise.
//
// Pass holds the pool's lock throughout: Add, Remove and Window wait for it.
func (p *Pool) Pass(now time.Time) PassResult {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := &p.pass
	s.mode = &p.mode
	s.collect(p.entries, now)
	s.result.reset(s.mode)
	s.match()
	res := PassResult{Matches: s.result.matches, TimedOut: make([]Ticket, len(s.timedOut))}
	for i, e := range s.timedOut {
		res.TimedOut[i] = e.t
		e.removed = true
	}
	p.compact()
	s.release()
	return res
}

// collect splits the queue into timed-out tickets and eligible candidates
// and sorts both.
func (s *passState) collect(entries []*entry, now time.Time) {
	m := s.mode
	timeout := time.Duration(m.QueueTimeout)
	n := len(entries)
	if cap(s.cands) > scratchShrink*n+scratchKeep {
		// The queue drained: let the Pass's scratch go with it.
		s.cands, s.order, s.timedOut = nil, nil, nil
	}
	s.cands = slices.Grow(s.cands[:0], n)
	s.order = slices.Grow(s.order[:0], n)
	s.timedOut = s.timedOut[:0]
	s.maxWindow = 0
	for _, e := range entries {
		wait := waited(e.t.EnqueuedAt, now)
		if wait >= timeout {
			s.timedOut = append(s.timedOut, e)
			continue
		}
		if e.t.LatencyMs > m.MaxLatencyAt(wait) {
			continue
		}
		w := m.RatingWindowAt(wait)
		s.maxWindow = max(s.maxWindow, w)
		s.cands = append(s.cands, candidate{
			e: e, rating: e.rating, sum: e.sum, window: w,
			wait: wait, seq: e.seq, size: len(e.t.Players),
		})
	}
	slices.SortFunc(s.timedOut, func(a, b *entry) int {
		return cmp.Or(a.t.EnqueuedAt.Compare(b.t.EnqueuedAt), cmp.Compare(a.seq, b.seq))
	})
	slices.SortFunc(s.cands, func(a, b candidate) int {
		return cmp.Or(cmp.Compare(a.rating, b.rating), older(&a, &b))
	})
	nc := int32(len(s.cands))
	for i := range nc {
		c := &s.cands[i]
		c.prev, c.next = i-1, i+1
		s.order = append(s.order, i)
	}
	if nc > 0 {
		s.cands[nc-1].next = -1
	}
	slices.SortFunc(s.order, func(a, b int32) int { return older(&s.cands[a], &s.cands[b]) })
}

// older orders the longer-waiting candidate first, then the earlier added.
func older(a, b *candidate) int {
	return cmp.Or(cmp.Compare(b.wait, a.wait), cmp.Compare(a.seq, b.seq))
}

// match forms matches around each untaken candidate, oldest first.
func (s *passState) match() {
	s.form.init(s)
	for _, a := range s.order {
		if s.cands[a].taken {
			continue
		}
		members, ok := s.form.around(a)
		if !ok {
			continue
		}
		assign, nTeams, ok := s.teams.balance(s.mode, s.cands, members)
		if !ok {
			continue
		}
		s.result.add(s.cands, members, assign, nTeams)
		for _, i := range members {
			s.take(i)
		}
	}
}

// take marks candidate i matched and unlinks it from the rating order.
func (s *passState) take(i int32) {
	c := &s.cands[i]
	c.taken = true
	c.e.removed = true
	if c.prev >= 0 {
		s.cands[c.prev].next = c.next
	}
	if c.next >= 0 {
		s.cands[c.next].prev = c.prev
	}
}

// release drops the scratch's references to tickets so a drained queue does
// not keep them alive until the next Pass.
func (s *passState) release() {
	clear(s.cands[:cap(s.cands)])
	clear(s.timedOut[:cap(s.timedOut)])
	s.cands, s.timedOut = s.cands[:0], s.timedOut[:0]
	s.result = builder{}
}

// compact removes the entries a Pass marked removed from the queue.
func (p *Pool) compact() {
	kept := p.entries[:0]
	for _, e := range p.entries {
		if e.removed {
			p.forget(e)
			continue
		}
		e.pos = len(kept)
		kept = append(kept, e)
	}
	clear(p.entries[len(kept):])
	p.entries = kept
}
