package arenagame

import (
	"encoding/json"
	"time"

	"github.com/atollgg/atoll/gameserver/arena"
	"github.com/atollgg/atoll/gameserver/sdk"
)

// Telemetry kinds the arena emits through the room to the cell's stream.
const (
	// TelemetryViolation: a player broke an anti-cheat rule; the input was
	// clamped or rejected. Data is a ViolationData.
	TelemetryViolation = "anticheat.violation"
	// TelemetryKick: a player was kicked after repeated violations. Data
	// is a KickData.
	TelemetryKick = "anticheat.kick"
)

// ViolationData is the data of a TelemetryViolation event.
type ViolationData struct {
	// Violation is the rule broken: arena.ViolationKind's name (speed,
	// fire_rate, future_input, stale_input, input_flood, malformed).
	Violation string `json:"violation"`
	// Tick is the server tick, Seq the offending input's sequence number
	// (absent for kinds the transport detects).
	Tick uint32 `json:"tick"`
	Seq  uint32 `json:"seq,omitempty"`
}

// KickData is the data of a TelemetryKick event.
type KickData struct {
	Tick uint32 `json:"tick"`
	// Counts are the player's violations over the match, by kind.
	Counts map[string]uint32 `json:"counts"`
}

// telemetryEvent builds an event; data is one of the types above, whose
// JSON always fits sdk.MaxTelemetryData.
func telemetryEvent(kind, player string, at time.Time, data any) sdk.TelemetryEvent {
	b, err := json.Marshal(data)
	if err != nil { // the data types above always marshal
		b = nil
	}
	return sdk.TelemetryEvent{Kind: kind, PlayerID: player, At: at, Data: b}
}

// countsByName names a player's violation totals, leaving out zeros.
func countsByName(c arena.ViolationCounts) map[string]uint32 {
	out := map[string]uint32{}
	for k, n := range c {
		if kind := arena.ViolationKind(k); kind.Valid() && n > 0 {
			out[kind.String()] = n
		}
	}
	return out
}
