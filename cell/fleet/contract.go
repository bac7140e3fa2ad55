package fleet

import (
	"context"
	"time"

	"github.com/atollgg/atoll/contract"
	"github.com/atollgg/atoll/gameserver/sdk"
)

// This file is the contract between the fleet and the rest of the cell
// (matchmaking and sessions). Other files of the package implement it.

// Player is one matched player handed to a game server.
type Player struct {
	ID   string `json:"id"`
	Team int    `json:"team"`
}

// Match is what the matchmaker hands the fleet to allocate a server for.
type Match struct {
	SessionID string   `json:"session_id"`
	Mode      string   `json:"mode"`
	Players   []Player `json:"players"`
}

// Allocation tells the cell where the match will be played.
type Allocation struct {
	SessionID string `json:"session_id"`
	ServerID  string `json:"server_id"`
	// Host and Port are what players connect to (the game server's WebSocket).
	Host string `json:"host"`
	Port int    `json:"port"`
}

// EventKind is what happened to a session on its server.
type EventKind string

// Session events the fleet emits (to Config.Events, or on Events()).
const (
	// EventPlayerConnected / EventPlayerDisconnected: a player joined or left the server.
	EventPlayerConnected    EventKind = "player_connected"
	EventPlayerDisconnected EventKind = "player_disconnected"
	// EventSessionActive: the game started.
	EventSessionActive EventKind = "session_active"
	// EventSessionEnded: the server reported results and shut down cleanly.
	EventSessionEnded EventKind = "session_ended"
	// EventSessionFailed: the server crashed or went unhealthy mid-session;
	// Players lists who must be requeued.
	EventSessionFailed EventKind = "session_failed"
)

// Event is one session event.
type Event struct {
	Kind      EventKind `json:"kind"`
	SessionID string    `json:"session_id"`
	ServerID  string    `json:"server_id"`
	PlayerID  string    `json:"player_id,omitempty"`
	Players   []string  `json:"players,omitempty"`
	Results   *Results  `json:"results,omitempty"`
	Reason    string    `json:"reason,omitempty"`
	At        time.Time `json:"at"`
}

// Results are a finished match's per-player results, reported by the game
// server (server-authoritative: never from clients).
type Results struct {
	SessionID string         `json:"session_id"`
	Mode      string         `json:"mode"`
	StartedAt time.Time      `json:"started_at"`
	EndedAt   time.Time      `json:"ended_at"`
	Players   []PlayerResult `json:"players"`
}

// PlayerResult is one player's result; it travels unchanged in the
// match.completed event, so it is the federation's contract type.
type PlayerResult = contract.PlayerResult

// Telemetry is one batch of a game server's telemetry events (anti-cheat
// violations and the like), checked against its allocation: the session is
// the server's, and every player named is in the match.
type Telemetry struct {
	BatchID   string               `json:"batch_id"`
	SessionID string               `json:"session_id"`
	ServerID  string               `json:"server_id"`
	Mode      string               `json:"mode"`
	Events    []sdk.TelemetryEvent `json:"events"`
}

// TelemetrySink stores a telemetry batch durably (the cell publishes it on
// its stream). An error makes the fleet answer 503, and the server retries.
type TelemetrySink func(ctx context.Context, t Telemetry) error

// EventSink stores a session event durably (the cell appends it to its
// session-event stream, deduplicated by EventMsgID). An error makes the
// fleet retry the same event with backoff; a terminal event counts as
// delivered only once the sink has accepted it.
type EventSink func(ctx context.Context, ev Event) error
