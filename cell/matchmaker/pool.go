package matchmaker

import (
	"fmt"
	"slices"
	"sync"
	"time"
)

// Pool is the queue of one mode. It is safe for concurrent use: the cell's
// matchmaking loop calls Pass while request handlers call Add, Remove and
// Window.
type Pool struct {
	mode       Mode
	maxTickets int

	mu       sync.Mutex        // guards following
	entries  []*entry          // queued tickets, in no particular order
	byTicket map[string]*entry // ticket id → entry
	byPlayer map[string]string // player id → ticket id
	seq      uint64            // insertion counter, the last tie-breaker of "oldest first"
	pass     passState         // scratch reused by every Pass
}

// entry is a queued ticket with the figures a Pass needs precomputed.
type entry struct {
	t       Ticket
	sum     float64 // sum of the party's ratings
	rating  float64 // party mean, the rating its window is judged by
	seq     uint64
	pos     int  // index in Pool.entries
	removed bool // set by Pass for tickets it matched or timed out
}

// NewPool returns an empty queue for mode, which must be valid.
func NewPool(mode Mode) (*Pool, error) {
	if err := mode.Validate(); err != nil {
		return nil, fmt.Errorf("new pool: %w", err)
	}
	mode.RatingExpansions = slices.Clone(mode.RatingExpansions)
	mode.LatencyExpansions = slices.Clone(mode.LatencyExpansions)
	if mode.MaxPlayers == 0 {
		mode.MaxPlayers = mode.FullPlayers()
	}
	if mode.MinPlayers == 0 {
		mode.MinPlayers = mode.MaxPlayers
	}
	maxTickets := mode.MaxTickets
	if maxTickets == 0 {
		maxTickets = DefaultMaxTickets
	}
	return &Pool{
		mode:       mode,
		maxTickets: maxTickets,
		byTicket:   make(map[string]*entry),
		byPlayer:   make(map[string]string),
	}, nil
}

// Mode returns the pool's mode with MaxPlayers and MinPlayers filled in.
func (p *Pool) Mode() Mode {
	m := p.mode
	m.RatingExpansions = slices.Clone(m.RatingExpansions)
	m.LatencyExpansions = slices.Clone(m.LatencyExpansions)
	return m
}

// Add queues t. It fails, leaving the pool unchanged, when the ticket is
// invalid, names another mode, holds a party larger than a team, reuses a
// queued ticket id or a queued player, or the queue is full.
func (p *Pool) Add(t Ticket) error {
	if err := t.validate(&p.mode); err != nil {
		return fmt.Errorf("add ticket: %w", err)
	}
	t.Players = slices.Clone(t.Players) // the caller keeps its slice; the queue keeps its own
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, dup := p.byTicket[t.ID]; dup {
		return fmt.Errorf("add ticket: %w: %q", ErrDuplicateTicket, t.ID)
	}
	for _, pl := range t.Players {
		if other, queued := p.byPlayer[pl.ID]; queued {
			return fmt.Errorf("add ticket %q: %w: player %q is in ticket %q", t.ID, ErrPlayerQueued, pl.ID, other)
		}
	}
	if len(p.entries) >= p.maxTickets {
		return fmt.Errorf("add ticket %q: %w: mode %q holds %d tickets", t.ID, ErrPoolFull, p.mode.Name, p.maxTickets)
	}
	sum := t.ratingSum()
	p.seq++
	e := &entry{t: t, sum: sum, rating: sum / float64(len(t.Players)), seq: p.seq, pos: len(p.entries)}
	p.entries = append(p.entries, e)
	p.byTicket[t.ID] = e
	for _, pl := range t.Players {
		p.byPlayer[pl.ID] = t.ID
	}
	return nil
}

// Remove takes a ticket out of the queue (the player cancelled or left) and
// reports whether it was queued.
func (p *Pool) Remove(ticketID string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	e, ok := p.byTicket[ticketID]
	if !ok {
		return false
	}
	last := p.entries[len(p.entries)-1]
	p.entries[e.pos] = last
	last.pos = e.pos
	p.entries[len(p.entries)-1] = nil
	p.entries = p.entries[:len(p.entries)-1]
	p.forget(e)
	return true
}

// forget drops e from the indexes; the caller has taken it out of entries.
func (p *Pool) forget(e *entry) {
	delete(p.byTicket, e.t.ID)
	for _, pl := range e.t.Players {
		delete(p.byPlayer, pl.ID)
	}
}

// Len returns the number of queued tickets.
func (p *Pool) Len() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.entries)
}

// Window returns a queued ticket's current rating window and latency limit
// at now, for status display; ok is false when the ticket is not queued.
func (p *Pool) Window(ticketID string, now time.Time) (ratingWindow float64, maxLatencyMs int, ok bool) {
	p.mu.Lock()
	e, ok := p.byTicket[ticketID]
	var enq time.Time
	if ok {
		enq = e.t.EnqueuedAt
	}
	p.mu.Unlock()
	if !ok {
		return 0, 0, false
	}
	wait := waited(enq, now)
	return p.mode.RatingWindowAt(wait), p.mode.MaxLatencyAt(wait), true
}

// waited is how long a ticket enqueued at enq has waited at now; a clock
// that stepped back counts as no wait rather than a negative one.
func waited(enq, now time.Time) time.Duration {
	return max(now.Sub(enq), 0)
}
