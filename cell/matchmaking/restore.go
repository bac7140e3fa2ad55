package matchmaking

import (
	"context"
	"errors"
	"slices"

	"github.com/atollgg/atoll/cell/fleet"
	"github.com/atollgg/atoll/cell/sessions"
)

// restore rebuilds the in-memory state from the KV after a start, including
// one after a crash at any point of a ticket's life:
//
//   - A session still allocating was being handed to the fleet when the cell
//     stopped. Allocation is idempotent by session id, so it is retried: on
//     success its tickets become matched; otherwise it is deleted and its
//     tickets, still queued in the KV, queue again.
//   - A matched ticket whose session failed, or is missing, is requeued with
//     its age kept; one whose session ended is closed.
//   - Queued tickets go back into their pools with their enqueue time, so
//     they keep their place and widened windows.
func (s *Service) restore(ctx context.Context) error {
	all, err := s.store.all(ctx)
	if err != nil {
		return err
	}
	sess, err := s.cfg.Sessions.List(ctx)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, t := range all {
		s.tickets[t.ID] = t
	}
	// Point each player at their latest ticket, an active one first.
	for _, t := range all {
		for _, p := range t.Players {
			cur, ok := s.tickets[s.byPlayer[p.ID]]
			if !ok || (t.active() && !cur.active()) || (t.active() == cur.active() && t.UpdatedAt.After(cur.UpdatedAt)) {
				s.byPlayer[p.ID] = t.ID
			}
		}
	}

	byID := make(map[string]sessions.Entry, len(sess))
	for _, e := range sess {
		byID[e.ID] = e
		if e.Status == sessions.StatusAllocating {
			s.resumeAllocation(ctx, e)
		}
	}
	for _, t := range all {
		if t.Status != StatusMatched || t.Closed {
			continue
		}
		e, ok := byID[t.SessionID]
		switch {
		case ok && e.Status == sessions.StatusEnded:
			t.Closed = true
			t.UpdatedAt = s.cfg.Now()
			if err := s.store.put(ctx, t); err != nil {
				return err
			}
		case !ok || e.Status == sessions.StatusFailed:
			if err := s.requeueLocked(ctx, t); err != nil {
				return err
			}
		}
	}
	for _, t := range all {
		if t.Status == StatusQueued && !s.inPool(t) {
			if err := s.pools[t.Mode].Add(t.queueEntry()); err != nil {
				s.log.Error("cannot requeue restored ticket", "ticket", t.ID, "err", err)
			}
		}
	}
	return nil
}

func (s *Service) inPool(t *Ticket) bool {
	p, ok := s.pools[t.Mode]
	if !ok {
		return true // a mode no longer configured: leave the ticket out
	}
	_, _, queued := p.Window(t.ID, s.cfg.Now())
	return queued
}

// resumeAllocation retries the allocation of a session the cell was
// allocating when it stopped. Callers hold s.mu.
func (s *Service) resumeAllocation(ctx context.Context, e sessions.Entry) {
	m := fleet.Match{SessionID: e.ID, Mode: e.GameMode}
	for _, p := range e.Players {
		m.Players = append(m.Players, fleet.Player{ID: p.ID, Team: p.Team})
	}
	var ts []*Ticket
	for _, p := range e.Players {
		t, ok := s.tickets[p.TicketID]
		if !ok || t.Status != StatusQueued {
			ts = nil
			break
		}
		if !slices.Contains(ts, t) {
			ts = append(ts, t)
		}
	}
	if ts == nil {
		// A ticket moved on (cancelled, or matched elsewhere): the match
		// cannot be played as formed.
		s.dropSession(ctx, e.ID, "tickets changed")
		return
	}
	actx, cancel := context.WithTimeout(ctx, allocateTimeout)
	alloc, err := s.cfg.Fleet.Allocate(actx, m)
	cancel()
	if err != nil {
		if !errors.Is(err, fleet.ErrNoCapacity) {
			s.log.Warn("resume allocation failed; players stay queued", "session", e.ID, "err", err)
		}
		s.dropSession(ctx, e.ID, "allocation not resumed")
		return
	}
	if err := s.commitMatchLocked(ctx, e.ID, alloc, ts); err != nil {
		// The tickets are still queued: they go back to their pools with
		// the others after restore's loop.
		s.log.Error("resume allocation: commit; its players stay queued", "session", e.ID, "err", err)
		s.cfg.Fleet.Release(e.ID, "match not recorded")
		s.dropSession(ctx, e.ID, "match not recorded")
	}
}

func (s *Service) dropSession(ctx context.Context, id, why string) {
	if err := s.cfg.Sessions.Delete(ctx, id); err != nil {
		s.log.Error("delete unallocated session", "session", id, "why", why, "err", err)
	}
}
