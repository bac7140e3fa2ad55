package bus

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/atollgg/atoll/contract"
	"github.com/nats-io/nats.go/jetstream"
)

// Timings of ConsumeGlobal.
const (
	// globalFetchWait bounds one pull: long enough not to spin on an idle
	// stream, short enough to notice a cancelled context promptly.
	globalFetchWait = 2 * time.Second
	// globalFetchBatch is how many events one pull takes; applying is
	// sequential, so a batch only saves round trips.
	globalFetchBatch = 64
	// globalAckWait is how long a delivered event may stay unacknowledged
	// before redelivery; InProgress extends it while an apply retries, and it
	// exceeds the longest backoff (globalRetryMax).
	globalAckWait = 2 * time.Minute
	// globalRetryMin and globalRetryMax bound the backoff between attempts
	// at a failing apply: fast for a blip, capped so a long outage of what
	// apply needs is retried every half minute.
	globalRetryMin = 100 * time.Millisecond
	globalRetryMax = 30 * time.Second
)

// ensureGlobalIn creates GLOBAL_IN in the cell's domain, without its
// source: watchLeaf attaches the source of the core's GLOBAL_EVENTS once
// the leaf is up, so events the core published while the cell was cut off
// arrive when the leaf returns and stay here for the cell's consumers even
// if the hub goes away again.
func (b *Bus) ensureGlobalIn(ctx context.Context) error {
	_, err := b.JS.CreateOrUpdateStream(ctx, b.globalInConfig(false))
	if err != nil {
		return fmt.Errorf("stream %s: %w", contract.GlobalInStream, err)
	}
	return nil
}

// leafWatchInterval is how often the cell looks for a new leaf connection:
// catching up on the core's events starts at most this long after the hub
// is back.
const leafWatchInterval = 250 * time.Millisecond

// watchLeaf (re)attaches GLOBAL_IN's source each time the leaf connection
// is new. nats-server sets a source up by a request into the hub's domain
// and waits 30 s for the answer; one sent while the leaf is down is lost
// and a reconnect meanwhile does not retry it, so attaching only once the
// leaf is up starts catch-up at once. The stream keeps the source's
// position, so re-attaching resumes where it stopped.
func (b *Bus) watchLeaf(ctx context.Context) {
	var last uint64
	t := time.NewTicker(leafWatchInterval)
	defer t.Stop()
	for {
		// The hub's interest in its domain's API arrives after the leaf is
		// up; a request sent before it is dropped and waited on for 30 s.
		if lz, err := b.Server.Leafz(nil); err == nil && len(lz.Leafs) > 0 && lz.Leafs[0].ID != last &&
			b.Server.GlobalAccount().SubscriptionInterest(contract.JSAPIPrefix(contract.GlobalDomain)+".STREAM.INFO."+contract.GlobalEventsStream) {
			if err := b.reattachGlobalIn(ctx); err != nil {
				if ctx.Err() == nil {
					b.cfg.Log.Warn("source the core's events; retrying", "err", err)
				}
			} else {
				last = lz.Leafs[0].ID
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (b *Bus) reattachGlobalIn(ctx context.Context) error {
	rctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	if _, err := b.JS.UpdateStream(rctx, b.globalInConfig(false)); err != nil {
		return err
	}
	_, err := b.JS.UpdateStream(rctx, b.globalInConfig(true))
	return err
}

func (b *Bus) globalInConfig(withSource bool) jetstream.StreamConfig {
	sc := jetstream.StreamConfig{
		Name:        contract.GlobalInStream,
		Description: "the core's events for every cell, sourced from the global domain",
		Storage:     jetstream.FileStorage,
		Retention:   jetstream.LimitsPolicy,
		MaxAge:      StreamMaxAge,
		Duplicates:  DuplicateWindow,
		Replicas:    1,
	}
	if withSource {
		sc.Sources = []*jetstream.StreamSource{{
			Name: contract.GlobalEventsStream,
			External: &jetstream.ExternalStream{
				APIPrefix:     contract.JSAPIPrefix(contract.GlobalDomain),
				DeliverPrefix: contract.CellDeliverPrefix(b.cfg.CellID),
			},
		}}
	}
	return sc
}

// ConsumeGlobal applies the core's events of one kind (global.<kind>, e.g.
// contract.KindPlayerErased) from GLOBAL_IN through a durable consumer
// named durable, in stream order, until ctx ends. Each event is acked only
// after apply returns nil, so a crash redelivers it: apply must be
// idempotent. An apply error is retried with backoff, in place, so later
// events wait; an error wrapping contract.ErrInvalidEvent is logged and the
// event dropped (terminated), since no retry can apply it.
func (b *Bus) ConsumeGlobal(ctx context.Context, durable, kind string, apply func(ctx context.Context, data []byte) error) error {
	cons, err := b.JS.CreateOrUpdateConsumer(ctx, contract.GlobalInStream, jetstream.ConsumerConfig{
		Durable:       durable,
		FilterSubject: contract.GlobalSubject(kind),
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       globalAckWait,
		MaxDeliver:    -1,
		DeliverPolicy: jetstream.DeliverAllPolicy,
	})
	if err != nil {
		return fmt.Errorf("consume %s: consumer %s: %w", kind, durable, err)
	}
	log := b.cfg.Log.With("consumer", durable, "kind", kind)
	for ctx.Err() == nil {
		batch, err := cons.Fetch(globalFetchBatch, jetstream.FetchMaxWait(globalFetchWait))
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			log.Warn("fetch global events", "err", err)
			if !sleepCtx(ctx, globalRetryMin) {
				break
			}
			continue
		}
		for msg := range batch.Messages() {
			if !applyWithRetry(ctx, log, msg, apply) {
				return nil
			}
		}
		if err := batch.Error(); err != nil && !errors.Is(err, jetstream.ErrNoMessages) && ctx.Err() == nil {
			log.Warn("fetch global events", "err", err)
		}
	}
	return nil
}

// applyWithRetry applies msg until it succeeds or is invalid, then acks or
// terminates it; false means ctx ended first (the message is redelivered).
func applyWithRetry(ctx context.Context, log interface {
	Warn(string, ...any)
	Error(string, ...any)
}, msg jetstream.Msg, apply func(context.Context, []byte) error) bool {
	delay := globalRetryMin
	for {
		err := apply(ctx, msg.Data())
		switch {
		case err == nil:
			if aerr := msg.DoubleAck(ctx); aerr != nil && ctx.Err() == nil {
				// Redelivered later; apply is idempotent.
				log.Warn("ack global event", "subject", msg.Subject(), "err", aerr)
			}
			return ctx.Err() == nil
		case errors.Is(err, contract.ErrInvalidEvent):
			log.Error("dropping invalid global event", "subject", msg.Subject(), "err", err)
			_ = msg.Term()
			return true
		}
		if ctx.Err() != nil {
			return false
		}
		log.Warn("apply global event; retrying", "subject", msg.Subject(), "err", err, "in", delay)
		_ = msg.InProgress()
		if !sleepCtx(ctx, delay) {
			return false
		}
		delay = min(delay*2, globalRetryMax)
	}
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
