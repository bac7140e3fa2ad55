package sdk

import (
	"encoding/json"
	"time"
)

// API paths, relative to http://$ATOLL_SDK_ADDR.
const (
	PathHealth             = "/v1/health"
	PathReady              = "/v1/ready"
	PathAllocation         = "/v1/allocation"
	PathActive             = "/v1/active"
	PathPlayerConnected    = "/v1/players/connected"
	PathPlayerDisconnected = "/v1/players/disconnected"
	PathResults            = "/v1/results"
	PathShutdown           = "/v1/shutdown"
	PathTelemetry          = "/v1/telemetry"
)

// Request headers that authenticate a game server. The secret travels as
// "Authorization: Bearer <ATOLL_SDK_SECRET>".
const (
	HeaderServerID = "X-Atoll-Server-Id"
)

// WaitParam is the query parameter of GET /v1/allocation giving how long
// the cell may hold the request (a Go duration such as "20s").
const WaitParam = "wait"

// Limits shared by both ends of the contract.
const (
	// MaxWait bounds one allocation long-poll: below every HTTP write and
	// proxy idle timeout on the way (the cell's is 30 s), so a held request
	// is never cut off mid-wait.
	MaxWait = 20 * time.Second
	// MaxIDLength bounds server, session and player ids (UUIDs are 36
	// bytes); anything longer is a bug, not an id.
	MaxIDLength = 128
	// MaxReasonLength bounds free-text reasons; they end up in logs and
	// events, never in anything parsed.
	MaxReasonLength = 256
	// MaxPlayers bounds the players of one match; the arena caps a match
	// at 64, so 256 leaves room for other games.
	MaxPlayers = 256
	// MaxResultsBody bounds POST /v1/results: a result is ~150 bytes of
	// JSON, so MaxPlayers of them fit several times over.
	MaxResultsBody = 128 << 10
	// MaxSmallBody bounds every other request body (a player id or a
	// reason).
	MaxSmallBody = 2 << 10
	// MaxStat bounds each numeric stat in results, far beyond any real
	// match, so a corrupt server cannot overflow counters downstream.
	MaxStat = 1_000_000_000
	// MaxTimePlayed bounds time_played_s: no match lasts a day.
	MaxTimePlayed = 24 * 60 * 60
	// MaxTelemetryEvents bounds one POST /v1/telemetry batch: a server
	// sends a batch a second, and a match's anti-cheat events stay far
	// below 256 a second (a cheater is kicked after a few dozen).
	MaxTelemetryEvents = 256
	// MaxTelemetryData bounds one event's data object: a handful of
	// numbers and names, never a payload.
	MaxTelemetryData = 512
	// MaxTelemetryKind bounds an event kind such as "anticheat.violation".
	MaxTelemetryKind = 64
	// MaxTelemetryBody bounds POST /v1/telemetry: MaxTelemetryEvents at
	// their largest (data, ids, kind, time: under 1 KiB each).
	MaxTelemetryBody = 256 << 10
)

// State is a game server's lifecycle state, as Agones names them.
type State string

// Server states. Starting → Ready → Allocated → Shutdown; Unhealthy when it
// stops heartbeating or crashes, after which the cell kills it.
const (
	StateStarting  State = "Starting"
	StateReady     State = "Ready"
	StateAllocated State = "Allocated"
	StateShutdown  State = "Shutdown"
	StateUnhealthy State = "Unhealthy"
)

// Valid reports whether s is a known state.
func (s State) Valid() bool {
	switch s {
	case StateStarting, StateReady, StateAllocated, StateShutdown, StateUnhealthy:
		return true
	}
	return false
}

// StateResponse is the body of every successful SDK call except
// GET /v1/allocation: the server's state as the cell sees it. A server told
// StateShutdown must exit.
type StateResponse struct {
	State State `json:"state"`
}

// AllocationResponse is the body of GET /v1/allocation. Allocation is set
// exactly when State is StateAllocated.
type AllocationResponse struct {
	State      State       `json:"state"`
	Allocation *Allocation `json:"allocation,omitempty"`
}

// Player is one player of the match.
type Player struct {
	ID   string `json:"id"`
	Team int    `json:"team"`
}

// Allocation is the match a server was allocated for.
type Allocation struct {
	SessionID string   `json:"session_id"`
	Mode      string   `json:"mode"`
	Players   []Player `json:"players"`
	// Connect says how to verify the connect tokens players present.
	Connect ConnectVerification `json:"connect"`
	// AllocatedAt is when the cell allocated the server.
	AllocatedAt time.Time `json:"allocated_at"`
}

// ConnectVerification is what a game server needs to verify connect tokens:
// EdDSA JWTs whose "iss" is Issuer, "aud" and "srv" the server id, "sid"
// the session id, "sub" the player id and "token_use" "connect".
type ConnectVerification struct {
	Issuer string `json:"issuer"`
	// JWKS is the JSON Web Key Set of the cell's connect-token keys.
	JWKS json.RawMessage `json:"jwks"`
}

// PlayerEvent is the body of POST /v1/players/connected and
// /v1/players/disconnected.
type PlayerEvent struct {
	PlayerID string `json:"player_id"`
}

// ShutdownRequest is the body of POST /v1/shutdown.
type ShutdownRequest struct {
	// Reason is free text for logs; empty after a normal end.
	Reason string `json:"reason,omitempty"`
}

// Results is the body of POST /v1/results: the finished match's per-player
// results, decided by the server alone. Every player must be in the match
// and appear at most once; players left out get no result.
type Results struct {
	SessionID string         `json:"session_id"`
	StartedAt time.Time      `json:"started_at"`
	EndedAt   time.Time      `json:"ended_at"`
	Players   []PlayerResult `json:"players"`
}

// PlayerResult is one player's result. Team is taken from the match, not
// from the server.
type PlayerResult struct {
	PlayerID    string  `json:"player_id"`
	Score       int     `json:"score"`
	Kills       int     `json:"kills"`
	Deaths      int     `json:"deaths"`
	Placement   int     `json:"placement"`
	TimePlayedS float64 `json:"time_played_s"`
}

// TelemetryBatch is the body of POST /v1/telemetry: events of the
// server's match for the cell's telemetry stream (anti-cheat, analytics).
// Telemetry is best effort: a server drops what the cell refuses.
type TelemetryBatch struct {
	// BatchID is unique per batch (a UUID); the cell stores a batch sent
	// twice (a retry after a lost answer) once.
	BatchID   string           `json:"batch_id"`
	SessionID string           `json:"session_id"`
	Events    []TelemetryEvent `json:"events"`
}

// TelemetryEvent is one telemetry event.
type TelemetryEvent struct {
	// Kind names the event: 1 to MaxTelemetryKind bytes of lower-case
	// letters, digits, '.', '_' and '-', e.g. "anticheat.violation".
	Kind string `json:"kind"`
	// PlayerID is the match player the event is about; empty for none.
	PlayerID string    `json:"player_id,omitempty"`
	At       time.Time `json:"at"`
	// Data is the event's details: a JSON object of at most
	// MaxTelemetryData bytes; absent for none.
	Data json.RawMessage `json:"data,omitempty"`
}
