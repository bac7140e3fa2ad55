package telemetry

import (
	"fmt"
	"time"

	"github.com/atollgg/atoll/internal/ratelimit"
)

// Limits bound what one kind of sender may send.
type Limits struct {
	// MaxEvents bounds one batch's events.
	MaxEvents int
	// MaxBatchBytes bounds one request body; larger is a 413.
	MaxBatchBytes int64
	// MaxPayloadBytes bounds one event's payload object.
	MaxPayloadBytes int
	// Rate limits batches per sender (player or game server); Off means
	// none.
	Rate ratelimit.Rate
}

// Default limits. A client flushes a batch every few seconds, a game server
// about once a second per match, so both rates leave a wide margin for
// retries while a flood from one sender is cut off within a second.
const (
	// clientMaxEvents: a client's buffer of a few seconds of analytics
	// events; more means it is replaying or flooding.
	clientMaxEvents = 100
	// clientMaxBatchBytes fits clientMaxEvents at clientMaxPayload each
	// with room for ids and timestamps, but no more.
	clientMaxBatchBytes = 128 << 10
	// clientMaxPayload: a client's event details are a few fields.
	clientMaxPayload = 1 << 10
	// serverMaxEvents: a busy 64-player match's second of events.
	serverMaxEvents = 1000
	// serverMaxBatchBytes fits serverMaxEvents of typical size (~300 B)
	// several times over.
	serverMaxBatchBytes = 1 << 20
	// serverMaxPayload: servers send richer details (violation counts by
	// kind, positions), still never a blob.
	serverMaxPayload = 4 << 10
)

// DefaultClientLimits are the limits of players' batches: 5 batches a
// second with a burst of 20 after a reconnect.
func DefaultClientLimits() Limits {
	return Limits{MaxEvents: clientMaxEvents, MaxBatchBytes: clientMaxBatchBytes, MaxPayloadBytes: clientMaxPayload,
		Rate: ratelimit.Rate{Events: 5, Per: time.Second, Burst: 20}}
}

// DefaultServerLimits are the limits of game servers' batches: 50 a second
// with a burst of 200 (a server flushing after a stall).
func DefaultServerLimits() Limits {
	return Limits{MaxEvents: serverMaxEvents, MaxBatchBytes: serverMaxBatchBytes, MaxPayloadBytes: serverMaxPayload,
		Rate: ratelimit.Rate{Events: 50, Per: time.Second, Burst: 200}}
}

// withDefaults returns def for the zero Limits, and otherwise fills l's
// zero sizes from def; l's Rate is kept as set (its zero value is Off).
func (l Limits) withDefaults(def Limits) Limits {
	if l == (Limits{}) {
		return def
	}
	if l.MaxEvents == 0 {
		l.MaxEvents = def.MaxEvents
	}
	if l.MaxBatchBytes == 0 {
		l.MaxBatchBytes = def.MaxBatchBytes
	}
	if l.MaxPayloadBytes == 0 {
		l.MaxPayloadBytes = def.MaxPayloadBytes
	}
	return l
}

func (l Limits) validate(who string) error {
	switch {
	case l.MaxEvents < 1:
		return fmt.Errorf("%s limits: max events %d, want at least 1", who, l.MaxEvents)
	case l.MaxBatchBytes < 1:
		return fmt.Errorf("%s limits: max batch bytes %d, want at least 1", who, l.MaxBatchBytes)
	case l.MaxPayloadBytes < 2:
		return fmt.Errorf("%s limits: max payload bytes %d, want at least 2 ({})", who, l.MaxPayloadBytes)
	}
	if err := l.Rate.Validate(); err != nil {
		return fmt.Errorf("%s limits: %w", who, err)
	}
	return nil
}

// Timestamp sanity. An event more than MaxClockSkew ahead of the cell's
// clock is clamped to the receive time (a client's clock is often wrong,
// and the event is still worth keeping); one older than MaxEventAge fails
// the batch with a 400 (a client replaying a stale buffer should drop it,
// and the core's retention would delete it anyway).
const (
	// MaxClockSkew: NTP-synced clocks differ by milliseconds, phones by
	// seconds to a minute; two minutes tolerates both.
	MaxClockSkew = 2 * time.Minute
	// MaxEventAge: a client buffers events across a day offline at most.
	MaxEventAge = 24 * time.Hour
)

// Event id, batch id and event type shapes.
const (
	// MaxIDLength bounds a sender's batch and event ids (a UUID is 36).
	MaxIDLength = 64
	// MaxEventType bounds an event type such as "anticheat.violation".
	MaxEventType = 64
)

// ServerOnlyPrefixes are event-type namespaces only game servers may use:
// the anti-cheat rules read them, and a client must not pose as a server.
var ServerOnlyPrefixes = []string{"anticheat.", "score.", "server."}
