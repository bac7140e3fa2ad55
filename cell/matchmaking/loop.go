package matchmaking

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/atollgg/atoll/cell/fleet"
	"github.com/atollgg/atoll/cell/matchmaker"
	"github.com/atollgg/atoll/cell/sessions"
	"github.com/google/uuid"
)

// matchLoop runs a pass over every pool each PassInterval and whenever a
// join or a requeue pokes it, until Shutdown.
func (s *Service) matchLoop() {
	tick := time.NewTicker(s.cfg.PassInterval)
	defer tick.Stop()
	prune := time.NewTicker(pruneInterval)
	defer prune.Stop()
	for {
		select {
		case <-s.runCtx.Done():
			return
		case <-tick.C:
		case <-s.wake:
		case <-prune.C:
			s.prune()
			continue
		}
		s.pass()
	}
}

// pass matches every pool once.
func (s *Service) pass() {
	now := s.cfg.Now()
	for _, m := range s.cfg.Modes {
		res := s.pools[m.Name].Pass(now)
		if len(res.TimedOut) > 0 {
			s.timeOut(res.TimedOut)
		}
		noCapacity := false
		for _, match := range res.Matches {
			if noCapacity {
				s.release(match.Tickets)
				continue
			}
			err := s.play(match)
			if errors.Is(err, fleet.ErrNoCapacity) {
				// No Ready server: the rest of this pass's matches wait
				// for the next one instead of each asking the fleet.
				noCapacity = true
				s.metrics.allocations.WithLabelValues("no_capacity").Inc()
			}
		}
	}
}

// timeOut finishes tickets a pass found waiting past the mode's timeout.
func (s *Service) timeOut(ts []matchmaker.Ticket) {
	ctx, cancel := s.storeCtx()
	defer cancel()
	var changed []string
	s.mu.Lock()
	for _, qt := range ts {
		t, ok := s.tickets[qt.ID]
		if !ok || t.Status != StatusQueued {
			continue
		}
		t.Status = StatusTimedOut
		t.UpdatedAt = s.cfg.Now()
		if err := s.store.put(ctx, t); err != nil {
			s.log.Error("save timed-out ticket", "ticket", t.ID, "err", err)
		}
		s.metrics.timedOut.WithLabelValues(t.Mode).Inc()
		changed = append(changed, t.playerIDs()...)
	}
	s.mu.Unlock()
	s.notify(changed...)
}

// play allocates a server for a match and hands it to its players. On
// failure the tickets go back to the queue unchanged.
func (s *Service) play(match matchmaker.Match) error {
	// Claim the tickets: one cancelled since the pass took it out of the
	// queue dissolves the match, and the others go back.
	s.mu.Lock()
	ts := make([]*Ticket, 0, len(match.Tickets))
	for _, qt := range match.Tickets {
		t, ok := s.tickets[qt.ID]
		if !ok || t.Status != StatusQueued {
			s.releaseLocked(match.Tickets)
			s.mu.Unlock()
			return nil
		}
		ts = append(ts, t)
	}
	for _, t := range ts {
		t.allocating = true
	}
	s.mu.Unlock()

	id := uuid.NewString()
	now := s.cfg.Now()
	fm := fleet.Match{SessionID: id, Mode: match.Mode}
	sess := sessions.Session{ID: id, GameMode: match.Mode, Region: s.cfg.Region, Status: sessions.StatusAllocating, CreatedAt: now}
	for team, tm := range match.Teams {
		for _, slot := range tm.Players {
			fm.Players = append(fm.Players, fleet.Player{ID: slot.PlayerID, Team: team})
			sess.Players = append(sess.Players, sessions.Player{ID: slot.PlayerID, Team: team, TicketID: slot.TicketID})
		}
	}
	ctx, cancel := s.storeCtx()
	defer cancel()
	if err := s.cfg.Sessions.Create(ctx, sess, ""); err != nil {
		s.log.Error("create session", "err", err)
		s.release(match.Tickets)
		return err
	}
	actx, acancel := context.WithTimeout(s.runCtx, allocateTimeout)
	alloc, err := s.cfg.Fleet.Allocate(actx, fm)
	acancel()
	if err != nil {
		s.dropSession(ctx, id, "allocation failed")
		s.release(match.Tickets)
		if !errors.Is(err, fleet.ErrNoCapacity) {
			s.metrics.allocations.WithLabelValues("error").Inc()
			s.log.Error("allocate server", "session", id, "err", err)
		}
		return err
	}
	s.metrics.allocations.WithLabelValues("ok").Inc()
	s.mu.Lock()
	err = s.commitMatchLocked(ctx, id, alloc, ts)
	s.mu.Unlock()
	if err != nil {
		s.log.Error("commit match; its players go back to the queue", "session", id, "err", err)
		s.metrics.allocations.WithLabelValues("commit_failed").Inc()
		s.abandon(ctx, id, match.Tickets)
		return err
	}
	for _, t := range ts {
		s.metrics.matched.WithLabelValues(t.Mode).Inc()
		s.metrics.waited.WithLabelValues(t.Mode).Observe(now.Sub(t.EnqueuedAt).Seconds())
	}
	var players []string
	for _, t := range ts {
		players = append(players, t.playerIDs()...)
	}
	s.notify(players...)
	return nil
}

// abandon undoes a match whose allocation could not be recorded: the
// fleet frees the server (its game never starts), the session is deleted
// and the tickets go back to the queue unchanged. A ticket stored as
// matched before the failure is stored as queued again; if that fails
// too, a restart requeues it (its session is gone).
func (s *Service) abandon(ctx context.Context, id string, qts []matchmaker.Ticket) {
	s.cfg.Fleet.Release(id, "match not recorded")
	s.dropSession(ctx, id, "match not recorded")
	s.mu.Lock()
	for _, qt := range qts {
		if t, ok := s.tickets[qt.ID]; ok && t.Status == StatusQueued {
			if err := s.store.put(ctx, t); err != nil {
				s.log.Warn("store requeued ticket", "ticket", t.ID, "err", err)
			}
		}
	}
	s.releaseLocked(qts)
	s.mu.Unlock()
}

// commitMatchLocked records an allocated session and marks its tickets
// matched. The tickets change in memory only once every one is stored, so
// on failure they are still queued (and allocating) for the caller to
// release. Callers hold s.mu.
func (s *Service) commitMatchLocked(ctx context.Context, id string, alloc fleet.Allocation, ts []*Ticket) error {
	_, _, err := s.cfg.Sessions.Update(ctx, id, func(sess *sessions.Session, serverID *string) bool {
		if sess.Status != sessions.StatusAllocating {
			return false
		}
		sess.Status = sessions.StatusWaitingForPlayers
		sess.Server = &sessions.Server{Host: alloc.Host, Port: alloc.Port}
		*serverID = alloc.ServerID
		return true
	})
	if err != nil {
		return fmt.Errorf("record allocation: %w", err)
	}
	now := s.cfg.Now()
	matched := make([]Ticket, len(ts))
	for i, t := range ts {
		c := *t
		c.allocating = false
		c.Status = StatusMatched
		c.SessionID, c.ServerID, c.Host, c.Port = id, alloc.ServerID, alloc.Host, alloc.Port
		c.MatchedAt = &now
		c.UpdatedAt = now
		if err := s.store.put(ctx, &c); err != nil {
			return err
		}
		matched[i] = c
	}
	for i, t := range ts {
		*t = matched[i]
	}
	return nil
}

// release puts a pass's tickets back in their pool unchanged (same enqueue
// time, so the same place), unless they left the queue meanwhile.
func (s *Service) release(ts []matchmaker.Ticket) {
	s.mu.Lock()
	s.releaseLocked(ts)
	s.mu.Unlock()
}

func (s *Service) releaseLocked(ts []matchmaker.Ticket) {
	for _, qt := range ts {
		t, ok := s.tickets[qt.ID]
		if !ok || t.Status != StatusQueued {
			continue
		}
		t.allocating = false
		if err := s.pools[qt.Mode].Add(qt); err != nil {
			s.log.Error("requeue ticket", "ticket", qt.ID, "err", err)
		}
	}
}

// requeueLocked puts a matched ticket whose session failed back in the
// queue, keeping the age it had when matched. Callers hold s.mu.
// The change is kept in memory only once stored, so a failed write leaves
// the ticket matched for the event's redelivery to requeue.
func (s *Service) requeueLocked(ctx context.Context, t *Ticket) error {
	now := s.cfg.Now()
	waited := time.Duration(0)
	if t.MatchedAt != nil {
		waited = max(t.MatchedAt.Sub(t.EnqueuedAt), 0)
	}
	c := *t
	c.EnqueuedAt = now.Add(-waited)
	c.Status = StatusQueued
	c.SessionID, c.ServerID, c.Host, c.Port, c.MatchedAt = "", "", "", 0, nil
	c.Requeues++
	c.UpdatedAt = now
	c.allocating = false
	if err := s.store.put(ctx, &c); err != nil {
		return err
	}
	*t = c
	for _, p := range t.Players {
		s.byPlayer[p.ID] = t.ID
	}
	pool, ok := s.pools[t.Mode]
	if !ok {
		return nil
	}
	if err := pool.Add(t.queueEntry()); err != nil {
		return fmt.Errorf("requeue ticket %s: %w", t.ID, err)
	}
	return nil
}

// prune deletes finished tickets and sessions past their retention.
func (s *Service) prune() {
	ctx, cancel := context.WithTimeout(s.runCtx, restoreTimeout)
	defer cancel()
	now := s.cfg.Now()
	s.mu.Lock()
	var old []string
	for id, t := range s.tickets {
		if t.finished() && now.Sub(t.UpdatedAt) >= TicketRetention {
			old = append(old, id)
		}
	}
	for _, id := range old {
		if err := s.store.delete(ctx, id); err != nil {
			s.log.Warn("prune ticket", "err", err)
			continue
		}
		t := s.tickets[id]
		delete(s.tickets, id)
		for _, p := range t.Players {
			if s.byPlayer[p.ID] == id {
				delete(s.byPlayer, p.ID)
			}
		}
	}
	s.mu.Unlock()
	if n, err := s.cfg.Sessions.Prune(ctx, now); err != nil {
		s.log.Warn("prune sessions", "err", err)
	} else if n > 0 || len(old) > 0 {
		s.log.Info("pruned finished tickets and sessions", "tickets", len(old), "sessions", n)
	}
}
