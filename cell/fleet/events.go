package fleet

import (
	"context"
	"sync"
	"time"
)

// Event delivery policy. The fleet never waits for the consumer of its
// events: events go to an internal queue that one dispatcher goroutine
// drains into the sink (Config.Events: the cell's durable event stream), or
// into the Events() channel when there is no sink. A sink that fails is
// retried with backoff, the event staying at the head of the queue.
//
//   - Session events (active, ended, failed) are never dropped. There are at
//     most three per allocation, so their backlog is bounded by the fleet's
//     size times the sessions a stalled consumer lets pile up.
//   - Player events (connected, disconnected) are informational and come
//     from servers, which could send floods: once maxQueuedPlayerEvents are
//     waiting, new ones are dropped and counted
//     (atoll_fleet_events_dropped_total).
//
// Events are delivered in the order the fleet learns of them. Reports from
// one server race each other (session_active may precede the first
// player_connected), but a session's terminal event is always its last.
//
// A session's terminal event (ended or failed) is also recorded in the KV
// until the sink has accepted it (or the dispatcher has handed it to the
// channel); a fleet restarted before that re-emits it, so terminal events
// are delivered at least once and consumers must treat them idempotently by
// session id. Only a durable sink makes "accepted" mean "will be applied":
// the channel loses what its reader has not applied when the cell stops.
const (
	// eventChannelSize is the buffer of Events(): a consumer that reads in
	// bursts (a NATS publish per event) never stalls the dispatcher.
	eventChannelSize = 256
	// maxQueuedPlayerEvents bounds queued player events: a few per player
	// of every running match, far more than a consumer that keeps up ever
	// leaves behind.
	maxQueuedPlayerEvents = 4096
	// sinkRetryInitial and sinkRetryMax bound the backoff between attempts
	// to hand an event to a failing sink: the cell's embedded JetStream
	// recovers in milliseconds from a hiccup, and a second between attempts
	// keeps a longer outage from spinning.
	sinkRetryInitial = 10 * time.Millisecond
	sinkRetryMax     = time.Second
)

type queuedEvent struct {
	ev Event
	// terminal events report back to the fleet once handed over.
	terminal *server
}

// eventQueue is the fleet's unbounded-for-sessions, bounded-for-players
// queue in front of the Events channel.
type eventQueue struct {
	out     chan Event // closed by run; unused (never written) with a sink
	sink    EventSink
	signal  chan struct{} // cap 1: something was queued
	dropped func()        // counts a dropped player event
	failed  func(error)   // reports a failed attempt of the sink

	mu      sync.Mutex // guards following
	items   []queuedEvent
	players int // player events among items
}

func newEventQueue(sink EventSink, dropped func(), failed func(error)) *eventQueue {
	q := &eventQueue{
		out:     make(chan Event, eventChannelSize),
		sink:    sink,
		signal:  make(chan struct{}, 1),
		dropped: dropped,
		failed:  failed,
	}
	if q.sink == nil {
		q.sink = q.toChannel
	}
	return q
}

// toChannel is the sink without a configured one: the Events() channel.
func (q *eventQueue) toChannel(ctx context.Context, ev Event) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case q.out <- ev:
		return nil
	}
}

// deliver hands ev to the sink, retrying with backoff until it accepts it
// or ctx ends; it reports whether the sink accepted it.
func (q *eventQueue) deliver(ctx context.Context, ev Event) bool {
	backoff := sinkRetryInitial
	for {
		err := q.sink(ctx, ev)
		if err == nil {
			return true
		}
		if ctx.Err() != nil {
			return false
		}
		q.failed(err)
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return false
		case <-t.C:
		}
		backoff = min(backoff*2, sinkRetryMax)
	}
}

// push queues ev; terminal is the server whose terminal event it is, or nil.
func (q *eventQueue) push(ev Event, terminal *server) {
	q.mu.Lock()
	player := ev.Kind == EventPlayerConnected || ev.Kind == EventPlayerDisconnected
	if player && q.players >= maxQueuedPlayerEvents {
		q.mu.Unlock()
		q.dropped()
		return
	}
	if player {
		q.players++
	}
	q.items = append(q.items, queuedEvent{ev: ev, terminal: terminal})
	q.mu.Unlock()
	select {
	case q.signal <- struct{}{}:
	default:
	}
}

func (q *eventQueue) pop() (queuedEvent, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.items) == 0 {
		return queuedEvent{}, false
	}
	it := q.items[0]
	q.items[0] = queuedEvent{}
	q.items = q.items[1:]
	if k := it.ev.Kind; k == EventPlayerConnected || k == EventPlayerDisconnected {
		q.players--
	}
	return it, true
}

// run delivers queued events until ctx ends, calling delivered for each
// terminal event the sink accepted; then it closes the channel. A terminal
// event still queued when ctx ends stays pending in the KV.
func (q *eventQueue) run(ctx context.Context, delivered func(*server)) {
	defer close(q.out)
	for {
		it, ok := q.pop()
		if !ok {
			select {
			case <-ctx.Done():
				return
			case <-q.signal:
				continue
			}
		}
		if !q.deliver(ctx, it.ev) {
			return
		}
		if it.terminal != nil {
			delivered(it.terminal)
		}
	}
}
