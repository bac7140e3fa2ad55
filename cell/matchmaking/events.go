package matchmaking

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/atollgg/atoll/cell/fleet"
	"github.com/atollgg/atoll/cell/sessions"
)

// eventLoop applies the fleet's session events until the fleet closes its
// channel or the service shuts down.
func (s *Service) eventLoop() {
	events := s.cfg.Fleet.Events()
	for {
		select {
		case <-s.runCtx.Done():
			return
		case ev, ok := <-events:
			if !ok {
				return
			}
			if err := s.handleEvent(ev); err != nil {
				s.log.Error("apply session event", "kind", ev.Kind, "session", ev.SessionID, "err", err)
			}
		}
	}
}

// handleEvent applies one event. Terminal events may arrive more than once
// (the fleet re-emits them after a restart); every step is idempotent.
func (s *Service) handleEvent(ev fleet.Event) error {
	ctx, cancel := s.storeCtx()
	defer cancel()
	if ev.Kind == fleet.EventSessionEnded {
		// Publish before recording the end: a crash in between makes the
		// fleet re-emit the event, and the Nats-Msg-Id stores it once.
		if err := s.publishCompleted(ctx, ev); err != nil {
			return err
		}
	}
	sess, changed, err := s.cfg.Sessions.Update(ctx, ev.SessionID, func(sess *sessions.Session, _ *string) bool {
		return sess.Apply(ev)
	})
	if errors.Is(err, sessions.ErrNotFound) {
		s.log.Debug("event for an unknown session", "kind", ev.Kind, "session", ev.SessionID)
		return nil
	}
	if err != nil {
		return err
	}
	switch {
	case sess.Status == sessions.StatusFailed:
		// Requeue even when the session was already failed: a crash may
		// have come between recording the failure and requeueing.
		return s.sessionFailed(ctx, sess, ev.Players)
	case sess.Status == sessions.StatusEnded:
		return s.sessionEnded(ctx, sess)
	case changed:
		s.notify(sess.PlayerIDs()...)
	}
	return nil
}

func (s *Service) publishCompleted(ctx context.Context, ev fleet.Event) error {
	sess, _, err := s.cfg.Sessions.Get(ctx, ev.SessionID)
	if errors.Is(err, sessions.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if ev.Results == nil || sess.Status == sessions.StatusFailed {
		return nil
	}
	body, err := json.Marshal(sessions.NewMatchCompleted(s.cfg.CellID, &sess, ev.Results))
	if err != nil {
		return err
	}
	if _, err := s.cfg.Publisher.Publish(ctx, sessions.KindMatchCompleted, body, sessions.MatchCompletedMsgID(sess.ID)); err != nil {
		return err
	}
	s.metrics.completed.WithLabelValues(sess.GameMode).Inc()
	return nil
}

// sessionFailed requeues the tickets of the players the fleet names (all of
// the session's when it names none) and closes the others.
func (s *Service) sessionFailed(ctx context.Context, sess sessions.Session, requeue []string) error {
	if len(requeue) == 0 {
		requeue = sess.PlayerIDs()
	}
	var errs []error
	s.mu.Lock()
	for _, t := range s.sessionTicketsLocked(sess) {
		back := false
		for _, id := range requeue {
			back = back || t.hasPlayer(id)
		}
		if back {
			errs = append(errs, s.requeueLocked(ctx, t))
			s.metrics.requeued.WithLabelValues(t.Mode).Inc()
		} else {
			errs = append(errs, s.closeLocked(ctx, t))
		}
	}
	s.mu.Unlock()
	s.notify(sess.PlayerIDs()...)
	s.poke()
	return errors.Join(errs...)
}

func (s *Service) sessionEnded(ctx context.Context, sess sessions.Session) error {
	var errs []error
	s.mu.Lock()
	for _, t := range s.sessionTicketsLocked(sess) {
		errs = append(errs, s.closeLocked(ctx, t))
	}
	s.mu.Unlock()
	s.notify(sess.PlayerIDs()...)
	return errors.Join(errs...)
}

// sessionTicketsLocked returns the tickets still matched into sess.
// Callers hold s.mu.
func (s *Service) sessionTicketsLocked(sess sessions.Session) []*Ticket {
	var out []*Ticket
	seen := map[string]bool{}
	for _, p := range sess.Players {
		t, ok := s.tickets[p.TicketID]
		if !ok || seen[t.ID] || t.Status != StatusMatched || t.SessionID != sess.ID || t.Closed {
			continue
		}
		seen[t.ID] = true
		out = append(out, t)
	}
	return out
}

func (s *Service) closeLocked(ctx context.Context, t *Ticket) error {
	t.Closed = true
	t.UpdatedAt = s.cfg.Now()
	return s.store.put(ctx, t)
}
