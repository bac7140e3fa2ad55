package fleet

import (
	"context"
	"sync"
)

// Event delivery policy. The fleet never waits for the consumer of
// Events(): events go to an internal queue that one dispatcher goroutine
// drains into the channel.
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
// until the dispatcher has handed it to the channel; a fleet restarted
// before that re-emits it, so terminal events are delivered at least once
// and consumers must treat them idempotently by session id.
const (
	// eventChannelSize is the buffer of Events(): a consumer that reads in
	// bursts (a NATS publish per event) never stalls the dispatcher.
	eventChannelSize = 256
	// maxQueuedPlayerEvents bounds queued player events: a few per player
	// of every running match, far more than a consumer that keeps up ever
	// leaves behind.
	maxQueuedPlayerEvents = 4096
)

type queuedEvent struct {
	ev Event
	// terminal events report back to the fleet once handed over.
	terminal *server
}

// eventQueue is the fleet's unbounded-for-sessions, bounded-for-players
// queue in front of the Events channel.
type eventQueue struct {
	out     chan Event
	signal  chan struct{} // cap 1: something was queued
	dropped func()        // counts a dropped player event

	mu      sync.Mutex // guards following
	items   []queuedEvent
	players int // player events among items
}

func newEventQueue(dropped func()) *eventQueue {
	return &eventQueue{
		out:     make(chan Event, eventChannelSize),
		signal:  make(chan struct{}, 1),
		dropped: dropped,
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
// terminal event handed over; then it closes the channel.
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
		select {
		case <-ctx.Done():
			return
		case q.out <- it.ev:
		}
		if it.terminal != nil {
			delivered(it.terminal)
		}
	}
}
