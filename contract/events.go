package contract

import "time"

// Event kinds on a cell's stream: subject cell.<cell id>.<kind>.
const (
	// KindMatchCompleted is a finished match's server-reported results.
	KindMatchCompleted = "match.completed"
)

// CellStreamName is the event stream of a cell, CELL_<id>, in the cell's
// JetStream domain (the cell id).
func CellStreamName(cellID string) string { return "CELL_" + cellID }

// CellSubject is the subject of an event kind on a cell's stream:
// cell.<id>.<kind>. A cell may publish only under cell.<id>.>.
func CellSubject(cellID, kind string) string { return "cell." + cellID + "." + kind }

// MatchCompleted is the body of a match.completed event, which the
// federation forwards to the global core (xp, rewards, ratings, history,
// leaderboards). The results are the game server's, never a client's.
type MatchCompleted struct {
	CellID    string         `json:"cell_id"`
	Region    string         `json:"region"`
	SessionID string         `json:"session_id"`
	GameMode  string         `json:"game_mode"`
	StartedAt time.Time      `json:"started_at"`
	EndedAt   time.Time      `json:"ended_at"`
	Players   []PlayerResult `json:"players"`
}

// MatchCompletedMsgID is the Nats-Msg-Id of a session's match.completed
// event: one per session, so a re-emitted terminal event is stored once.
func MatchCompletedMsgID(sessionID string) string { return KindMatchCompleted + ":" + sessionID }

// PlayerResult is one player's result in a finished match, as the game
// server reported it; Team comes from the match, not from the server.
type PlayerResult struct {
	PlayerID    string  `json:"player_id"`
	Team        int     `json:"team"`
	Score       int     `json:"score"`
	Kills       int     `json:"kills"`
	Deaths      int     `json:"deaths"`
	Placement   int     `json:"placement"`
	TimePlayedS float64 `json:"time_played_s"`
}

// The core's side of the bus: the hub's JetStream domain, the stream that
// sources every cell's stream, and the stream the core publishes to cells.
const (
	// GlobalDomain is the JetStream domain of the global hub.
	GlobalDomain = "global"
	// CellEventsStream is the core's stream in GlobalDomain that sources
	// every cell's CELL_<id> stream; subjects stay cell.<id>.<kind>.
	CellEventsStream = "CELL_EVENTS"
	// GlobalEventsStream is the core's stream of events for every cell
	// (subjects global.<kind>), which cells source into their own domain so
	// they apply them after an outage too.
	GlobalEventsStream = "GLOBAL_EVENTS"
)

// GlobalSubject is the subject of an event kind the core publishes to every
// cell: global.<kind>.
func GlobalSubject(kind string) string { return "global." + kind }

// KindPlayerErased is published by the core when a player erases their
// account: cells remove them from regional leaderboards and cell state.
const KindPlayerErased = "player.erased"

// PlayerErased is the body of a player.erased event.
type PlayerErased struct {
	PlayerID string    `json:"player_id"`
	ErasedAt time.Time `json:"erased_at"`
}

// PlayerErasedMsgID is the Nats-Msg-Id of a player's erasure event.
func PlayerErasedMsgID(playerID string) string { return KindPlayerErased + ":" + playerID }
