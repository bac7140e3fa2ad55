package contract

import (
	"encoding/json"
	"time"
)

// KindTelemetry is the event kind of telemetry on a cell's stream: subject
// cell.<id>.telemetry, one message per batch a client or game server sent.
const KindTelemetry = "telemetry"

// Senders of a telemetry batch. Only server batches are authoritative:
// anti-cheat rules never act on what a client says.
const (
	SenderClient = "client"
	SenderServer = "server"
)

// Event types the reference game's servers send (gameserver/arenagame) and
// the core's anti-cheat rules read.
const (
	// TelemetryViolation is one anti-cheat violation of a player.
	TelemetryViolation = "anticheat.violation"
	// TelemetryKick is a player kicked for piling up violations.
	TelemetryKick = "anticheat.kick"
	// TelemetryScore is points a player scored, payload {"points": n}:
	// the input of the score-rate rule.
	TelemetryScore = "score.gained"
)

// TelemetryBatch is the body of a telemetry message on a cell's stream.
// The cell fills every field but Events from what it verified (the token's
// subject or the game server's credential), never from the request.
type TelemetryBatch struct {
	CellID string `json:"cell_id"`
	Region string `json:"region"`
	// Sender is SenderClient or SenderServer.
	Sender string `json:"sender"`
	// SenderID is the player (clients) or the game server (servers).
	SenderID string `json:"sender_id"`
	// BatchID is the sender's batch id, or one the cell generated.
	BatchID string `json:"batch_id"`
	// GameMode is the allocation's mode for server batches; empty for
	// clients.
	GameMode string `json:"game_mode,omitempty"`
	// ReceivedAt is when the cell accepted the batch.
	ReceivedAt time.Time        `json:"received_at"`
	Events     []TelemetryEvent `json:"events"`
}

// TelemetryEvent is one event of a batch.
type TelemetryEvent struct {
	// EventID is unique across senders: the cell derives it from the
	// sender and the sender's own event id (cell/telemetry.EventID), so a
	// client cannot collide with another sender's events.
	EventID string `json:"event_id"`
	// PlayerID is whom the event is about; a client's events are always
	// about the client itself. Empty for none (server events only).
	PlayerID string `json:"player_id,omitempty"`
	// SessionID is the game session; empty for none.
	SessionID string `json:"session_id,omitempty"`
	// EventType is dot-separated lower-case words, e.g. "anticheat.kick".
	EventType string `json:"event_type"`
	// Payload is a JSON object; absent for none.
	Payload json.RawMessage `json:"payload,omitempty"`
	// Timestamp is when the event happened, clamped by the cell to its
	// receive time when it lay too far in the future.
	Timestamp time.Time `json:"timestamp"`
}

// TelemetryMsgID is the Nats-Msg-Id of a batch: a batch re-sent by the
// same sender with the same batch id (a retry after a lost answer) is
// stored once.
func TelemetryMsgID(sender, senderID, batchID string) string {
	return KindTelemetry + ":" + sender + ":" + senderID + ":" + batchID
}
