package telemetry

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/atollgg/atoll/contract"
	"github.com/google/uuid"
	"github.com/nats-io/nats.go/jetstream"
)

// Sink consumes telemetry batches into the event log.
type Sink struct {
	cfg     Config
	log     *slog.Logger
	metrics *metrics

	mu         sync.Mutex // guards following
	partitions map[string]bool
}

// New checks cfg and returns a sink; Run starts it.
func New(cfg Config) (*Sink, error) {
	if err := cfg.fill(); err != nil {
		return nil, err
	}
	s := &Sink{cfg: cfg, log: cfg.Log.With("component", "telemetry-sink"), partitions: map[string]bool{}}
	s.metrics = newMetrics(cfg.Registry)
	return s, nil
}

// Subject is the filter of the sink's consumer: every cell's telemetry.
func Subject() string { return contract.CellSubject("*", contract.KindTelemetry) }

// Run consumes until ctx ends, and runs retention every
// RetentionInterval. It returns nil when ctx ends. Until the stream is
// reachable (the hub starting, its stream not created yet) it retries
// every retryDelay.
func (s *Sink) Run(ctx context.Context) error {
	var cons jetstream.Consumer
	for {
		var err error
		if cons, err = s.setup(ctx); err == nil {
			break
		}
		s.log.Warn("telemetry sink not started yet", "err", err)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(retryDelay):
		}
	}
	var wg sync.WaitGroup
	wg.Add(1 + s.cfg.Workers)
	go func() { // owned by Run: ends with ctx
		defer wg.Done()
		s.retentionLoop(ctx)
	}()
	for range s.cfg.Workers {
		go func() { // owned by Run: ends with ctx
			defer wg.Done()
			s.work(ctx, cons)
		}()
	}
	wg.Wait()
	return nil
}

// work runs steps until ctx ends, pausing retryDelay after a failed one.
func (s *Sink) work(ctx context.Context, cons jetstream.Consumer) {
	for ctx.Err() == nil {
		if err := s.Step(ctx, cons); err != nil && ctx.Err() == nil {
			s.log.Warn("telemetry sink step", "err", err)
			select {
			case <-ctx.Done():
			case <-time.After(retryDelay):
			}
		}
	}
}

// setup creates the dead-letter stream and the durable consumer.
func (s *Sink) setup(ctx context.Context) (jetstream.Consumer, error) {
	if _, err := s.cfg.JS.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name: s.cfg.DeadLetterStream, Subjects: []string{s.cfg.DeadLetterSubject},
		Description: "telemetry batches the sink could not decode, with the reason",
		Storage:     jetstream.FileStorage, Retention: jetstream.LimitsPolicy, MaxAge: deadLetterMaxAge,
	}); err != nil {
		return nil, fmt.Errorf("telemetry sink: dead-letter stream: %w", err)
	}
	cons, err := s.cfg.JS.CreateOrUpdateConsumer(ctx, s.cfg.Stream, jetstream.ConsumerConfig{
		Durable: s.cfg.Durable, Description: "telemetry sink into the event log",
		FilterSubject: Subject(), AckPolicy: jetstream.AckExplicitPolicy, AckWait: ackWait,
		MaxAckPending: s.cfg.FetchMessages * 4, DeliverPolicy: jetstream.DeliverAllPolicy,
	})
	if err != nil {
		return nil, fmt.Errorf("telemetry sink: consumer on %s: %w", s.cfg.Stream, err)
	}
	return cons, nil
}

// Step fetches up to FetchMessages batches, stores them and acks them. A
// failed transaction naks its batches for redelivery after retryDelay.
func (s *Sink) Step(ctx context.Context, cons jetstream.Consumer) error {
	// What is there now, without waiting to fill the batch (a backlog fills
	// it at once); only an idle stream waits, up to fetchWait.
	batch, err := cons.FetchNoWait(s.cfg.FetchMessages)
	if err != nil {
		return fmt.Errorf("fetch: %w", err)
	}
	if n, err := s.consume(ctx, batch); n > 0 || err != nil {
		return err
	}
	if batch, err = cons.Fetch(s.cfg.FetchMessages, jetstream.FetchMaxWait(fetchWait)); err != nil {
		return fmt.Errorf("fetch: %w", err)
	}
	_, err = s.consume(ctx, batch)
	return err
}

// consume stores one fetch's batches and returns how many messages it saw.
func (s *Sink) consume(ctx context.Context, batch jetstream.MessageBatch) (int, error) {
	seen := 0
	var pending []jetstream.Msg
	// Sized for a full transaction: growing it copied every row several
	// times (a quarter of the sink's CPU).
	rows := make([]row, 0, s.cfg.MaxTxEvents+maxEventsPerBatch)
	flush := func() error {
		if len(pending) == 0 {
			return nil
		}
		// Acks only after the commit: a crash in between redelivers, and
		// the event ids dedupe.
		err := s.store(ctx, rows)
		result := "stored"
		if err != nil {
			result = "failed"
		}
		for _, m := range pending {
			if err != nil {
				_ = m.NakWithDelay(retryDelay)
			} else {
				_ = m.Ack()
			}
		}
		s.metrics.batches.WithLabelValues(result).Add(float64(len(pending)))
		pending, rows = pending[:0], rows[:0]
		return err
	}
	var firstErr error
	for msg := range batch.Messages() {
		seen++
		if md, err := msg.Metadata(); err == nil {
			s.metrics.lag.Set(float64(md.NumPending))
		}
		decoded, err := s.decode(msg)
		if err != nil {
			s.deadLetter(ctx, msg, err)
			continue
		}
		pending = append(pending, msg)
		rows = append(rows, decoded...)
		if len(rows) >= s.cfg.MaxTxEvents {
			if err := flush(); err != nil && firstErr == nil {
				firstErr = err
			}
		}
	}
	if err := flush(); err != nil && firstErr == nil {
		firstErr = err
	}
	if err := batch.Error(); err != nil && !errors.Is(err, jetstream.ErrNoMessages) && firstErr == nil {
		firstErr = fmt.Errorf("fetch: %w", err)
	}
	return seen, firstErr
}

// row is one event as stored.
type row struct {
	ts, received                                       time.Time
	id                                                 uuid.UUID
	cell, sender, senderID, player, session, eventType string
	payload                                            []byte
}

// maxEventsPerBatch is the most events a cell puts in one batch (its game
// servers' limit), the slack a transaction's row buffer needs past
// MaxTxEvents.
const maxEventsPerBatch = 1000

// errPoison marks a batch no retry can store.
var errPoison = errors.New("undecodable telemetry batch")

// decode turns a message into rows. The cell id comes from the subject
// (the bus lets a cell publish only under its own prefix), not the body.
func (s *Sink) decode(msg jetstream.Msg) ([]row, error) {
	parts := strings.Split(msg.Subject(), ".")
	if len(parts) != 3 || parts[0] != "cell" || parts[2] != contract.KindTelemetry || parts[1] == "" {
		return nil, fmt.Errorf("%w: subject %q is not cell.<id>.telemetry", errPoison, msg.Subject())
	}
	var b contract.TelemetryBatch
	if err := json.Unmarshal(msg.Data(), &b); err != nil {
		return nil, fmt.Errorf("%w: %v", errPoison, err)
	}
	if b.Sender != contract.SenderClient && b.Sender != contract.SenderServer {
		return nil, fmt.Errorf("%w: sender %q", errPoison, b.Sender)
	}
	if len(b.Events) == 0 {
		return nil, fmt.Errorf("%w: no events", errPoison)
	}
	cutoff := s.cfg.Now().Add(-s.cfg.Retention)
	rows := make([]row, 0, len(b.Events))
	for i, e := range b.Events {
		id, err := uuid.Parse(e.EventID)
		if err != nil {
			return nil, fmt.Errorf("%w: events[%d]: event_id: %v", errPoison, i, err)
		}
		if e.EventType == "" || e.Timestamp.IsZero() {
			return nil, fmt.Errorf("%w: events[%d]: event_type and timestamp are required", errPoison, i)
		}
		if len(e.Payload) > 0 && e.Payload[0] != '{' {
			return nil, fmt.Errorf("%w: events[%d]: payload is not a JSON object", errPoison, i)
		}
		if e.Timestamp.Before(cutoff) {
			s.metrics.events.WithLabelValues("expired").Inc()
			continue
		}
		rows = append(rows, row{
			ts: e.Timestamp.UTC(), received: b.ReceivedAt.UTC(), id: id, cell: parts[1], sender: b.Sender, senderID: b.SenderID,
			player: e.PlayerID, session: e.SessionID, eventType: e.EventType, payload: e.Payload,
		})
	}
	if b.ReceivedAt.IsZero() {
		now := s.cfg.Now().UTC()
		for i := range rows {
			rows[i].received = now
		}
	}
	return rows, nil
}

// drainPoll is how often Drain looks at a consumer whose only pending
// messages are acks on their way: they land within milliseconds.
const drainPoll = 20 * time.Millisecond

// Drain consumes until the consumer has nothing pending or in flight: a
// one-shot catch-up (tests, tools). Unlike Run it returns the first
// failed step's error.
func (s *Sink) Drain(ctx context.Context) error {
	cons, err := s.setup(ctx)
	if err != nil {
		return err
	}
	for {
		info, err := cons.Info(ctx)
		if err != nil {
			return fmt.Errorf("consumer info: %w", err)
		}
		if info.NumPending == 0 && info.NumAckPending == 0 {
			return nil
		}
		if info.NumPending == 0 {
			// Only acks in flight (or naks waiting out their delay):
			// look again shortly rather than block in a fetch.
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(drainPoll):
			}
			continue
		}
		if err := s.Step(ctx, cons); err != nil {
			return err
		}
	}
}
