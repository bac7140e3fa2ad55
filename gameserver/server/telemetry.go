package server

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/atollgg/atoll/gameserver/sdk"
	"github.com/google/uuid"
)

// Telemetry leaves the server in batches, best effort.
const (
	// telemetryQueueSize bounds the events waiting to be sent: a match
	// produces a few a second (a cheater is kicked within dozens), so
	// 4096 only fills if the cell stops taking them; then events are
	// dropped and counted rather than held without end.
	telemetryQueueSize = 4096
	// telemetryFlushInterval is how often queued events are sent: telemetry
	// is for analysis, not for real time, and one call a second keeps the
	// SDK traffic negligible. A full batch goes at once.
	telemetryFlushInterval = time.Second
	// telemetryCallTimeout bounds one batch's call with its retries: long
	// enough to ride out a cell restart, short enough that a cell refusing
	// for good does not hold the queue.
	telemetryCallTimeout = 10 * time.Second
)

// telemetryQueue holds a match's telemetry events until the runner sends
// them. Safe for concurrent use.
type telemetryQueue struct {
	wake chan struct{} // cap 1: a full batch is waiting

	mu      sync.Mutex // guards following
	events  []sdk.TelemetryEvent
	dropped uint64
}

func newTelemetryQueue() *telemetryQueue {
	return &telemetryQueue{wake: make(chan struct{}, 1)}
}

// add queues events, dropping (and counting) what does not fit.
func (q *telemetryQueue) add(events []sdk.TelemetryEvent) {
	q.mu.Lock()
	if room := telemetryQueueSize - len(q.events); len(events) > room {
		q.dropped += uint64(len(events) - room)
		events = events[:room]
	}
	q.events = append(q.events, events...)
	full := len(q.events) >= sdk.MaxTelemetryEvents
	q.mu.Unlock()
	if full {
		select {
		case q.wake <- struct{}{}:
		default:
		}
	}
}

// take removes and returns up to one batch of events.
func (q *telemetryQueue) take() []sdk.TelemetryEvent {
	q.mu.Lock()
	defer q.mu.Unlock()
	n := min(len(q.events), sdk.MaxTelemetryEvents)
	if n == 0 {
		return nil
	}
	out := append([]sdk.TelemetryEvent(nil), q.events[:n]...)
	q.events = q.events[:copy(q.events, q.events[n:])]
	return out
}

func (q *telemetryQueue) droppedCount() uint64 {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.dropped
}

// sendTelemetry sends the room's telemetry to the cell until ctx ends,
// then flushes what is left within reportFlushTimeout.
func (r *runner) sendTelemetry(ctx context.Context, q *telemetryQueue, sessionID string) {
	tick := time.NewTicker(telemetryFlushInterval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			fctx, cancel := context.WithTimeout(context.Background(), reportFlushTimeout)
			sendBatches(fctx, r.client, q, sessionID, r.log)
			cancel()
			if n := q.droppedCount(); n > 0 {
				r.log.Warn("telemetry events dropped: queue full", "dropped", n)
			}
			return
		case <-tick.C:
		case <-q.wake:
		}
		sendBatches(ctx, r.client, q, sessionID, r.log)
	}
}

// sendBatches sends queued events until the queue is empty or ctx ends; a
// batch the cell refuses is logged and dropped.
func sendBatches(ctx context.Context, c *sdk.Client, q *telemetryQueue, sessionID string, log *slog.Logger) {
	for ctx.Err() == nil {
		events := q.take()
		if len(events) == 0 {
			return
		}
		cctx, cancel := context.WithTimeout(ctx, telemetryCallTimeout)
		err := c.Telemetry(cctx, sdk.TelemetryBatch{BatchID: uuid.NewString(), SessionID: sessionID, Events: events})
		cancel()
		if err != nil {
			log.Warn("send telemetry", "events", len(events), "err", err)
		}
	}
}
