package matchmaking

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/atollgg/atoll/cell/fleet"
	"github.com/atollgg/atoll/cell/sessions"
	"github.com/nats-io/nats.go/jetstream"
)

// The fleet's session events reach matchmaking through the cell's
// session-event stream (sessions.EventLog). The durable consumer below acks
// an event only once it is applied (match.completed published, session and
// tickets updated); a failure is retried with a growing delay, so a game
// that ends while matchmaking is stopped or its store fails is applied when
// it is back. Every step is idempotent, so redeliveries change nothing.
const (
	// EventConsumer is the durable consumer's name.
	EventConsumer = "matchmaking"
	// eventAckWait is how long a delivered event may stay unacked before it
	// is delivered again. The loop applies events one at a time, so a
	// redelivery never runs concurrently with the first attempt; it comes
	// into play for events a stopped cell's last pull received and never
	// applied, which the next start gets this long after.
	eventAckWait = 10 * time.Second
	// eventMaxAckPending bounds events delivered and not yet applied: an
	// event that keeps failing waits for its retry without holding up the
	// other sessions' events.
	eventMaxAckPending = 256
	// eventBatch is how many events one pull asks for; the loop applies
	// them one by one, a few milliseconds each, well within eventAckWait.
	eventBatch = 16
	// eventPullWait is how long one pull waits for events when there are
	// none. Short, because a pull outlives a Shutdown on the server for
	// this long, and events it takes then wait eventAckWait.
	eventPullWait = time.Second
	// eventRetryInitial and eventRetryMax pace redeliveries of an event
	// that failed: the embedded JetStream recovers from a hiccup in
	// milliseconds, and half a minute keeps a long outage from spinning.
	eventRetryInitial = 100 * time.Millisecond
	eventRetryMax     = 30 * time.Second
	// reconcileRetryMax caps the wait between attempts to reconcile the
	// sessions left unfinished by the previous run.
	reconcileRetryMax = 30 * time.Second
)

// retryDelay is the wait before the delivery after the delivered-th.
func retryDelay(delivered uint64) time.Duration {
	d := eventRetryInitial
	for i := uint64(1); i < delivered && d < eventRetryMax; i++ {
		d *= 2
	}
	return min(d, eventRetryMax)
}

// eventLoop reconciles the sessions left unfinished by the previous run,
// then applies the stream's events until Shutdown.
func (s *Service) eventLoop(cons jetstream.Consumer) {
	s.reconcileUntilDone()
	for s.runCtx.Err() == nil {
		s.pull(cons)
	}
}

// pull fetches one batch of events and applies them.
func (s *Service) pull(cons jetstream.Consumer) {
	// The context (not FetchMaxWait) bounds the pull, so Shutdown cuts
	// it short; its deadline becomes the pull request's expiry.
	ctx, cancel := context.WithTimeout(s.runCtx, eventPullWait)
	defer cancel()
	batch, err := cons.Fetch(eventBatch, jetstream.FetchContext(ctx))
	if err != nil {
		if s.runCtx.Err() == nil {
			s.log.Warn("pull session events", "err", err)
			s.pause(eventRetryInitial)
		}
		return
	}
	for msg := range batch.Messages() {
		s.applyMessage(msg)
	}
	if err := batch.Error(); err != nil && s.runCtx.Err() == nil &&
		!errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, context.Canceled) && !errors.Is(err, jetstream.ErrNoMessages) {
		s.log.Warn("pull session events", "err", err)
		s.pause(eventRetryInitial)
	}
}

// pause waits d or until Shutdown.
func (s *Service) pause(d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-s.runCtx.Done():
	case <-t.C:
	}
}

// applyMessage applies one stored event and acks it, or asks for it again
// later.
func (s *Service) applyMessage(msg jetstream.Msg) {
	ev, err := sessions.DecodeEvent(msg.Data())
	if err != nil {
		s.log.Error("dropping undecodable session event", "subject", msg.Subject(), "err", err)
		s.metrics.events.WithLabelValues("invalid").Inc()
		_ = msg.TermWithReason(err.Error())
		return
	}
	if s.runCtx.Err() != nil {
		// Shutting down: hand the event back for the next start at once.
		_ = msg.Nak()
		return
	}
	if err := s.handleEvent(ev); err != nil {
		var delivered uint64 = 1
		if md, merr := msg.Metadata(); merr == nil {
			delivered = md.NumDelivered
		}
		delay := retryDelay(delivered)
		s.log.Warn("apply session event; retrying", "kind", ev.Kind, "session", ev.SessionID,
			"attempt", delivered, "retry_in", delay, "err", err)
		s.metrics.events.WithLabelValues("retried").Inc()
		if nerr := msg.NakWithDelay(delay); nerr != nil {
			s.log.Warn("nak session event", "session", ev.SessionID, "err", nerr)
		}
		return
	}
	ctx, cancel := s.storeCtx()
	defer cancel()
	if err := msg.DoubleAck(ctx); err != nil {
		// Redelivered after eventAckWait; applying again changes nothing.
		s.log.Warn("ack session event", "session", ev.SessionID, "err", err)
	}
	s.metrics.events.WithLabelValues("applied").Inc()
}

// reconcileUntilDone retries reconcile with backoff until it succeeds or
// the service shuts down.
func (s *Service) reconcileUntilDone() {
	delay := eventRetryInitial
	for s.runCtx.Err() == nil {
		err := s.reconcile()
		if err == nil {
			return
		}
		s.log.Warn("reconcile unfinished sessions; retrying", "retry_in", delay, "err", err)
		s.pause(delay)
		delay = min(delay*2, reconcileRetryMax)
	}
}

// reconcile settles every session the store holds as allocated and not
// over, against the fleet's records and the event stream: a session whose
// server still plays it is kept; one whose end is on the stream or known to
// the fleet gets that end; one whose server is gone without a trace (its
// end was lost) fails, so its players are requeued. The fleet is asked
// before the stream: a server's record is removed only after its end is on
// the stream.
func (s *Service) reconcile() error {
	ctx, cancel := context.WithTimeout(s.runCtx, restoreTimeout)
	defer cancel()
	all, err := s.cfg.Sessions.List(ctx)
	if err != nil {
		return err
	}
	var errs []error
	for _, e := range all {
		if !e.Status.Live() {
			continue
		}
		fev, fate := s.cfg.Fleet.Session(e.ID)
		if fate == fleet.SessionRunning {
			continue
		}
		ev, found, err := s.cfg.Events.Terminal(ctx, e.ID)
		switch {
		case err != nil:
			errs = append(errs, err)
			continue
		case found:
		case fate == fleet.SessionOver:
			ev = fev
		default:
			ev = fleet.Event{
				Kind: fleet.EventSessionFailed, SessionID: e.ID, ServerID: e.ServerID,
				Reason: "game server lost while the cell was down", At: s.cfg.Now(),
			}
		}
		s.log.Info("reconciling unfinished session", "session", e.ID, "outcome", ev.Kind, "fleet", fate)
		if err := s.handleEvent(ev); err != nil {
			errs = append(errs, fmt.Errorf("reconcile session %s: %w", e.ID, err))
		}
	}
	return errors.Join(errs...)
}

// handleEvent applies one event. Terminal events may arrive more than once
// (the fleet re-emits them after a restart, the stream redelivers them
// until acked, reconciliation may apply them first); every step is
// idempotent.
func (s *Service) handleEvent(ev fleet.Event) error {
	ctx, cancel := s.storeCtx()
	defer cancel()
	if ev.Kind == fleet.EventSessionEnded {
		// Publish before recording the end: a failure in between makes the
		// event come again, and the Nats-Msg-Id stores it once; once the
		// end is recorded, it is not published again.
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
		// Requeue even when the session was already failed: a failure may
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
	if ev.Results == nil || sess.Status.Terminal() {
		return nil
	}
	body, err := json.Marshal(sessions.NewMatchCompleted(s.cfg.CellID, &sess, ev.Results))
	if err != nil {
		return err
	}
	ack, err := s.cfg.Publisher.Publish(ctx, sessions.KindMatchCompleted, body, sessions.MatchCompletedMsgID(sess.ID))
	if err != nil {
		return err
	}
	if !ack.Duplicate {
		s.metrics.completed.WithLabelValues(sess.GameMode).Inc()
	}
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
			if err := s.requeueLocked(ctx, t); err != nil {
				errs = append(errs, err)
			} else {
				s.metrics.requeued.WithLabelValues(t.Mode).Inc()
			}
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

// closeLocked marks a matched ticket's session over. The change is kept
// in memory only once stored, so a failed write is retried by the event's
// redelivery. Callers hold s.mu.
func (s *Service) closeLocked(ctx context.Context, t *Ticket) error {
	c := *t
	c.Closed = true
	c.UpdatedAt = s.cfg.Now()
	if err := s.store.put(ctx, &c); err != nil {
		return err
	}
	*t = c
	return nil
}
