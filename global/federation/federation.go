package federation

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strconv"
	"sync"
	"time"

	"github.com/atollgg/atoll/contract"
	"github.com/atollgg/atoll/global/hub"
	"github.com/atollgg/atoll/internal/db"
	"github.com/jackc/pgx/v5"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
)

// Timings and limits of the consumers.
const (
	// fetchBatch is how many events one pull takes, and the most one
	// transaction applies: a backlog commits 128 events at a time, and a
	// group that fails costs 128 single retries at most.
	fetchBatch = 128
	// fetchWait bounds one pull on an idle stream: short enough to stop
	// promptly, long enough not to spin.
	fetchWait = 2 * time.Second
	// ackWait is how long a delivered event may stay unacknowledged before
	// the server redelivers it; InProgress extends it while an apply is
	// retried, and it exceeds retryMax.
	ackWait = 2 * time.Minute
	// retryMin and retryMax bound the backoff between attempts at a failing
	// apply: fast for a serialization blip, capped so a database outage is
	// retried every half minute.
	retryMin = 50 * time.Millisecond
	retryMax = 30 * time.Second
	// maxReasonLen bounds the dead-letter reason header.
	maxReasonLen = 1024
)

// Dead-letter headers: why and what.
const (
	HeaderReason  = "Atoll-Dead-Reason"
	HeaderSubject = "Atoll-Dead-Subject"
	HeaderMsgID   = "Atoll-Dead-Msg-Id"
	HeaderSeq     = "Atoll-Dead-Seq"
	HeaderHandler = "Atoll-Dead-Handler"
)

var handlerName = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,47}$`)

// Config configures the framework.
type Config struct {
	// DB is the global database. Required.
	DB *db.DB
	// JS is JetStream in the global domain (hub.Hub.JS). Required.
	JS jetstream.JetStream
	// Registry receives the metrics; nil means they are not exported.
	Registry prometheus.Registerer
	// Log is the logger; nil means slog.Default().
	Log *slog.Logger
}

type handler struct {
	name, kind string
	fn         TxHandler
	after      func(Event) // nil: none
}

// Federation runs the handlers' consumers and the outbox publisher.
type Federation struct {
	cfg     Config
	log     *slog.Logger
	metrics *metrics

	mu       sync.Mutex // guards following
	handlers []handler
	started  bool
	cancel   context.CancelFunc
	wg       sync.WaitGroup

	kick chan struct{} // wakes the outbox publisher
}

// New checks cfg; Handle registers handlers, Start runs them.
func New(cfg Config) (*Federation, error) {
	if cfg.DB == nil || cfg.JS == nil {
		return nil, errors.New("federation: DB and JS are required")
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	return &Federation{cfg: cfg, log: cfg.Log.With("component", "federation"), metrics: newMetrics(cfg.Registry),
		kick: make(chan struct{}, 1)}, nil
}

// Handle registers fn under name (its durable consumer, fed_<name>, and its
// applied-markers) for the events of one kind from every cell (subject
// cell.*.<kind>). Call it before Start; names are unique and stable: a new
// name starts from the first event still in the stream.
func (f *Federation) Handle(name, kind string, fn TxHandler) error {
	return f.HandleWithAfterCommit(name, kind, fn, nil)
}

// HandleWithAfterCommit is Handle plus after, called once the transaction
// that applied an event has committed (never for duplicates), in stream
// order: the place for in-memory effects such as a rank index, which a
// retried transaction must not apply twice. A crash between commit and
// after loses the call, so in-memory state must be rebuilt from the
// database at start.
func (f *Federation) HandleWithAfterCommit(name, kind string, fn TxHandler, after func(Event)) error {
	if !handlerName.MatchString(name) {
		return fmt.Errorf("federation: handler name %q: want lower-case letters, digits, '-' or '_'", name)
	}
	if kind == "" || fn == nil {
		return errors.New("federation: handler needs a kind and a function")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.started {
		return errors.New("federation: Handle after Start")
	}
	for _, h := range f.handlers {
		if h.name == name {
			return fmt.Errorf("federation: handler %q registered twice", name)
		}
	}
	f.handlers = append(f.handlers, handler{name: name, kind: kind, fn: fn, after: after})
	return nil
}

// Start creates or updates every handler's durable consumer and runs them
// and the outbox publisher until Shutdown.
func (f *Federation) Start(ctx context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.started {
		return errors.New("federation: already started")
	}
	consumers := make([]jetstream.Consumer, len(f.handlers))
	for i, h := range f.handlers {
		c, err := f.cfg.JS.CreateOrUpdateConsumer(ctx, contract.CellEventsStream, jetstream.ConsumerConfig{
			Durable:       ConsumerName(h.name),
			Description:   "federation handler " + h.name,
			FilterSubject: contract.CellSubject("*", h.kind),
			AckPolicy:     jetstream.AckExplicitPolicy,
			AckWait:       ackWait,
			MaxDeliver:    -1,
			MaxAckPending: 2 * fetchBatch,
			DeliverPolicy: jetstream.DeliverAllPolicy,
		})
		if err != nil {
			return fmt.Errorf("federation: consumer of %s: %w", h.name, err)
		}
		consumers[i] = c
	}
	rctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	f.cancel = cancel
	for i, h := range f.handlers {
		f.wg.Add(1)
		go func() { defer f.wg.Done(); f.consume(rctx, h, consumers[i]) }()
	}
	f.wg.Add(1)
	go func() { defer f.wg.Done(); f.publishOutbox(rctx) }()
	f.started = true
	return nil
}

// Shutdown stops the consumers after the event each is applying, and the
// publisher; unacknowledged events are redelivered to the next run.
func (f *Federation) Shutdown(ctx context.Context) error {
	f.mu.Lock()
	cancel := f.cancel
	f.mu.Unlock()
	if cancel == nil {
		return nil
	}
	cancel()
	done := make(chan struct{})
	go func() { f.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("federation: shutdown: %w", ctx.Err())
	}
}

// ConsumerName is handler name's durable consumer on CELL_EVENTS.
func ConsumerName(handler string) string { return "fed_" + handler }

func (f *Federation) consume(ctx context.Context, h handler, cons jetstream.Consumer) {
	log := f.log.With("handler", h.name)
	delay := retryMin
	for ctx.Err() == nil {
		batch, err := cons.Fetch(fetchBatch, jetstream.FetchMaxWait(fetchWait))
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			// The hub restarting or the core's connection reconnecting.
			log.Warn("fetch cell events; retrying", "err", err, "in", delay)
			if !sleepCtx(ctx, delay) {
				return
			}
			delay = min(delay*2, retryMax)
			continue
		}
		delay = retryMin
		n := 0
		msgs := batch.Messages()
		for first := range msgs {
			// Whatever has already arrived joins one transaction, so a
			// backlog (a cell catching up) commits once per group, while an
			// idle stream's single event is applied at once.
			group := append(make([]jetstream.Msg, 0, fetchBatch), first)
		drain:
			for len(group) < fetchBatch {
				select {
				case m, ok := <-msgs:
					if !ok {
						break drain
					}
					group = append(group, m)
				default:
					break drain
				}
			}
			n += len(group)
			if meta, err := group[len(group)-1].Metadata(); err == nil {
				f.metrics.lag.WithLabelValues(h.name).Set(float64(meta.NumPending))
			}
			if !f.processGroup(ctx, log, h, group) {
				return
			}
		}
		if n == 0 {
			f.metrics.lag.WithLabelValues(h.name).Set(0)
		}
		if err := batch.Error(); err != nil && !errors.Is(err, jetstream.ErrNoMessages) && ctx.Err() == nil &&
			!errors.Is(err, nats.ErrTimeout) {
			log.Warn("fetch cell events", "err", err)
		}
	}
}

// processGroup applies group in one transaction (each event's marker and
// effect, ack after commit). If any event fails, nothing commits and each
// is processed on its own, so a poison or failing event only costs its
// group one rollback. false means ctx ended.
func (f *Federation) processGroup(ctx context.Context, log *slog.Logger, h handler, group []jetstream.Msg) bool {
	if len(group) == 1 {
		return f.process(ctx, log, h, group[0])
	}
	evs := make([]Event, len(group))
	for i, msg := range group {
		ev, err := eventOf(msg)
		if err != nil {
			return f.processEach(ctx, log, h, group)
		}
		evs[i] = ev
	}
	cells, ids := make([]string, len(evs)), make([]string, len(evs))
	for i, ev := range evs {
		cells[i], ids[i] = ev.CellID, ev.MsgID
	}
	var applied, dups int
	var done []int // indexes of evs applied in the committed attempt
	err := f.cfg.DB.RunTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		applied, dups, done = 0, 0, done[:0]
		// Every marker in one statement; RETURNING names the new ones.
		rows, err := tx.Query(ctx, `INSERT INTO federation_applied (handler, cell_id, msg_id)
			SELECT $1, c, m FROM unnest($2::TEXT[], $3::TEXT[]) AS t (c, m)
			ON CONFLICT (handler, cell_id, msg_id) DO NOTHING RETURNING cell_id, msg_id`, h.name, cells, ids)
		if err != nil {
			return fmt.Errorf("applied-markers: %w", err)
		}
		fresh := map[[2]string]bool{}
		for rows.Next() {
			var k [2]string
			if err := rows.Scan(&k[0], &k[1]); err != nil {
				rows.Close()
				return fmt.Errorf("applied-markers: %w", err)
			}
			fresh[k] = true
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("applied-markers: %w", err)
		}
		for i, ev := range evs {
			k := [2]string{ev.CellID, ev.MsgID}
			if !fresh[k] {
				dups++
				continue
			}
			delete(fresh, k) // the same event twice in a group applies once
			if err := h.fn(ctx, tx, ev); err != nil {
				return err
			}
			applied++
			done = append(done, i)
		}
		return nil
	})
	if err != nil {
		if ctx.Err() != nil {
			nakAll(group)
			return false
		}
		return f.processEach(ctx, log, h, group)
	}
	f.metrics.applied.WithLabelValues(h.name).Add(float64(applied))
	f.metrics.duplicates.WithLabelValues(h.name).Add(float64(dups))
	if h.after != nil {
		for _, i := range done {
			h.after(evs[i])
		}
	}
	for i, msg := range group {
		if aerr := msg.Ack(); aerr != nil {
			log.Warn("ack cell event", "seq", evs[i].Seq, "err", aerr)
		}
	}
	return true
}

func (f *Federation) processEach(ctx context.Context, log *slog.Logger, h handler, group []jetstream.Msg) bool {
	for i, msg := range group {
		if !f.process(ctx, log, h, msg) {
			nakAll(group[i+1:])
			return false
		}
	}
	return true
}

func nakAll(msgs []jetstream.Msg) {
	for _, m := range msgs {
		_ = m.Nak()
	}
}

// applyOne writes ev's applied-marker and, unless it existed (dup), the
// handler's effect, in tx.
func applyOne(ctx context.Context, tx pgx.Tx, h handler, ev Event) (dup bool, err error) {
	tag, err := tx.Exec(ctx, `INSERT INTO federation_applied (handler, cell_id, msg_id) VALUES ($1, $2, $3)
		ON CONFLICT (handler, cell_id, msg_id) DO NOTHING`, h.name, ev.CellID, ev.MsgID)
	if err != nil {
		return false, fmt.Errorf("applied-marker: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return true, nil
	}
	return false, h.fn(ctx, tx, ev)
}

// process applies msg once (marker and effect in one transaction, ack
// after commit), dead-letters it if it is poison, and otherwise retries in
// place so the handler keeps stream order. false means ctx ended.
func (f *Federation) process(ctx context.Context, log *slog.Logger, h handler, msg jetstream.Msg) bool {
	ev, err := eventOf(msg)
	if err != nil {
		return f.deadLetter(ctx, log, h, msg, ev, err)
	}
	delay := retryMin
	for {
		var dup bool
		err = f.cfg.DB.RunTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
			var err error
			dup, err = applyOne(ctx, tx, h, ev)
			return err
		})
		switch {
		case err == nil:
			if dup {
				f.metrics.duplicates.WithLabelValues(h.name).Inc()
			} else {
				f.metrics.applied.WithLabelValues(h.name).Inc()
				if h.after != nil {
					h.after(ev)
				}
			}
			// A lost ack means one redelivery, which the marker absorbs.
			if aerr := msg.Ack(); aerr != nil {
				log.Warn("ack cell event", "seq", ev.Seq, "err", aerr)
			}
			return true
		case IsPoison(err) || errors.Is(err, contract.ErrInvalidEvent):
			return f.deadLetter(ctx, log, h, msg, ev, err)
		case ctx.Err() != nil:
			// Redelivered at once to the next run.
			_ = msg.Nak()
			return false
		}
		f.metrics.retries.WithLabelValues(h.name).Inc()
		log.Warn("apply cell event; retrying", "seq", ev.Seq, "cell", ev.CellID, "err", err, "in", delay)
		_ = msg.InProgress()
		if !sleepCtx(ctx, delay) {
			_ = msg.Nak()
			return false
		}
		delay = min(delay*2, retryMax)
	}
}

// deadLetter stores msg in DEAD_LETTERS with why, then acks it; it retries
// the store until it succeeds, so no event is dropped unrecorded.
func (f *Federation) deadLetter(ctx context.Context, log *slog.Logger, h handler, msg jetstream.Msg, ev Event, why error) bool {
	reason := why.Error()
	if len(reason) > maxReasonLen {
		reason = reason[:maxReasonLen]
	}
	out := nats.NewMsg(hub.DeadLetterSubject(h.name))
	out.Data = msg.Data()
	out.Header.Set(HeaderReason, reason)
	out.Header.Set(HeaderSubject, msg.Subject())
	out.Header.Set(HeaderMsgID, ev.MsgID)
	out.Header.Set(HeaderHandler, h.name)
	out.Header.Set(HeaderSeq, strconv.FormatUint(ev.Seq, 10))
	out.Header.Set(jetstream.MsgIDHeader, h.name+":"+strconv.FormatUint(ev.Seq, 10)+":"+ev.MsgID)
	delay := retryMin
	for {
		_, err := f.cfg.JS.PublishMsg(ctx, out, jetstream.WithExpectStream(hub.DeadLetterStream))
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			_ = msg.Nak()
			return false
		}
		log.Warn("store dead letter; retrying", "seq", ev.Seq, "err", err, "in", delay)
		_ = msg.InProgress()
		if !sleepCtx(ctx, delay) {
			_ = msg.Nak()
			return false
		}
		delay = min(delay*2, retryMax)
	}
	f.metrics.deadLettered.WithLabelValues(h.name).Inc()
	log.Error("dead-lettered a cell event", "seq", ev.Seq, "subject", msg.Subject(), "reason", reason)
	if err := msg.Ack(); err != nil {
		log.Warn("ack dead-lettered event", "seq", ev.Seq, "err", err)
	}
	return true
}

func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
