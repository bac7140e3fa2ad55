package sessions

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/atollgg/atoll/cell/fleet"
	"github.com/nats-io/nats.go/jetstream"
)

// The session-event stream carries the fleet's session events to the
// sessions store (matchmaking's consumer) durably: the fleet counts a
// terminal event delivered once the stream has it, and the consumer acks an
// event only after applying it, so a game that ends while matchmaking is
// stopped, failing or restarting is applied when it is back. The stream is
// cell-local: its subjects (sessionevents.<cell>.>) are outside the
// cell.<cell>.> space the global core sources.
const (
	// EventStreamMaxAge keeps events this long: far longer than any cell
	// outage, and the start-up reconciliation looks terminal events up here.
	EventStreamMaxAge = 7 * 24 * time.Hour
	// EventStreamMaxBytes bounds the stream's disk: a session's events are
	// a few KiB, so this holds hundreds of thousands of sessions.
	EventStreamMaxBytes = 1 << 30
	// EventDuplicateWindow is how long the stream remembers Nats-Msg-Ids:
	// a fleet re-emits a terminal event after a restart, within minutes.
	EventDuplicateWindow = 10 * time.Minute
	// maxEventBytes bounds a decoded event: results of sdk.MaxPlayers
	// players are well under 128 KiB.
	maxEventBytes = 512 << 10
)

// Event subject classes: the last token of an event's subject.
const (
	classTerminal = "terminal" // ended or failed: one per session
	classActive   = "active"
	classPlayer   = "player"
)

// ErrBadEvent marks a stored event that cannot be decoded; it is never
// retried.
var ErrBadEvent = errors.New("undecodable session event")

// EventStreamName is the session-event stream of cell id.
func EventStreamName(cellID string) string { return "SESSION_EVENTS_" + cellID }

// EventLog is a cell's session-event stream.
type EventLog struct {
	js     jetstream.JetStream
	cellID string
	stream jetstream.Stream
}

// OpenEventLog creates or updates the session-event stream of cellID in
// js's domain (the cell's own JetStream).
func OpenEventLog(ctx context.Context, js jetstream.JetStream, cellID string) (*EventLog, error) {
	st, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:        EventStreamName(cellID),
		Description: "game-session events of cell " + cellID + " (cell-local, not sourced by the core)",
		Subjects:    []string{"sessionevents." + cellID + ".>"},
		Storage:     jetstream.FileStorage,
		Retention:   jetstream.LimitsPolicy,
		MaxAge:      EventStreamMaxAge,
		MaxBytes:    EventStreamMaxBytes,
		Discard:     jetstream.DiscardOld,
		Duplicates:  EventDuplicateWindow,
		Replicas:    1,
	})
	if err != nil {
		return nil, fmt.Errorf("session-event stream: %w", err)
	}
	return &EventLog{js: js, cellID: cellID, stream: st}, nil
}

// Stream is the underlying stream.
func (l *EventLog) Stream() jetstream.Stream { return l.stream }

// subject is sessionevents.<cell>.<session, base64url>.<class>: session ids
// are any visible ASCII, which may include subject syntax.
func (l *EventLog) subject(sessionID, class string) string {
	return "sessionevents." + l.cellID + "." + base64.RawURLEncoding.EncodeToString([]byte(sessionID)) + "." + class
}

func classOf(k fleet.EventKind) string {
	switch k {
	case fleet.EventSessionEnded, fleet.EventSessionFailed:
		return classTerminal
	case fleet.EventSessionActive:
		return classActive
	}
	return classPlayer
}

// EventMsgID is an event's Nats-Msg-Id: a session has one terminal event
// and one start, so re-emitting either stores it once; player events are
// told apart by player, kind and time.
func EventMsgID(ev fleet.Event) string {
	switch c := classOf(ev.Kind); c {
	case classTerminal, classActive:
		return ev.SessionID + "." + c
	default:
		return ev.SessionID + "." + string(ev.Kind) + "." + ev.PlayerID + "." + strconv.FormatInt(ev.At.UnixNano(), 10)
	}
}

// Publish stores ev on the stream; it is the fleet's EventSink.
func (l *EventLog) Publish(ctx context.Context, ev fleet.Event) error {
	data, err := json.Marshal(ev)
	if err != nil {
		return fmt.Errorf("encode session event: %w", err)
	}
	_, err = l.js.Publish(ctx, l.subject(ev.SessionID, classOf(ev.Kind)), data,
		jetstream.WithMsgID(EventMsgID(ev)), jetstream.WithExpectStream(EventStreamName(l.cellID)))
	if err != nil {
		return fmt.Errorf("store %s event of session %s: %w", ev.Kind, ev.SessionID, err)
	}
	return nil
}

// DecodeEvent decodes a stored event; failures wrap ErrBadEvent.
func DecodeEvent(data []byte) (fleet.Event, error) {
	var ev fleet.Event
	if len(data) > maxEventBytes {
		return ev, fmt.Errorf("%w: %d bytes", ErrBadEvent, len(data))
	}
	if err := json.Unmarshal(data, &ev); err != nil {
		return ev, fmt.Errorf("%w: %w", ErrBadEvent, err)
	}
	if ev.SessionID == "" || ev.Kind == "" {
		return ev, fmt.Errorf("%w: no session or kind", ErrBadEvent)
	}
	return ev, nil
}

// Terminal returns the terminal event of a session stored on the stream,
// if any.
func (l *EventLog) Terminal(ctx context.Context, sessionID string) (fleet.Event, bool, error) {
	msg, err := l.stream.GetLastMsgForSubject(ctx, l.subject(sessionID, classTerminal))
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return fleet.Event{}, false, nil
	}
	if err != nil {
		return fleet.Event{}, false, fmt.Errorf("look up the end of session %s: %w", sessionID, err)
	}
	ev, err := DecodeEvent(msg.Data)
	if err != nil {
		return fleet.Event{}, false, err
	}
	return ev, true, nil
}

// Consumer creates or updates the durable consumer name of the stream:
// explicit acks, every event from the start, redelivered until acked (the
// consumer paces retries itself with NakWithDelay).
func (l *EventLog) Consumer(ctx context.Context, name string, ackWait time.Duration, maxAckPending int) (jetstream.Consumer, error) {
	c, err := l.stream.CreateOrUpdateConsumer(ctx, jetstream.ConsumerConfig{
		Durable:       name,
		Description:   "applies session events to the sessions store",
		AckPolicy:     jetstream.AckExplicitPolicy,
		DeliverPolicy: jetstream.DeliverAllPolicy,
		AckWait:       ackWait,
		MaxDeliver:    -1,
		MaxAckPending: maxAckPending,
	})
	if err != nil {
		return nil, fmt.Errorf("session-event consumer %s: %w", name, err)
	}
	return c, nil
}
