package sessions

import (
	"time"

	"github.com/atollgg/atoll/cell/fleet"
)

// KindMatchCompleted is the event kind of a finished match's results on the
// cell's stream: subject cell.<id>.match.completed.
const KindMatchCompleted = "match.completed"

// MatchCompleted is the body of a match.completed event, which the
// federation forwards to the global core (ratings, leaderboards, stats).
// The results are the game server's, never a client's.
type MatchCompleted struct {
	CellID    string               `json:"cell_id"`
	Region    string               `json:"region"`
	SessionID string               `json:"session_id"`
	GameMode  string               `json:"game_mode"`
	StartedAt time.Time            `json:"started_at"`
	EndedAt   time.Time            `json:"ended_at"`
	Players   []fleet.PlayerResult `json:"players"`
}

// MatchCompletedMsgID is the Nats-Msg-Id of a session's match.completed
// event: one per session, so a re-emitted terminal event is stored once.
func MatchCompletedMsgID(sessionID string) string { return KindMatchCompleted + ":" + sessionID }

// NewMatchCompleted builds the event of a session ended with results.
func NewMatchCompleted(cellID string, s *Session, r *fleet.Results) MatchCompleted {
	return MatchCompleted{
		CellID:    cellID,
		Region:    s.Region,
		SessionID: s.ID,
		GameMode:  s.GameMode,
		StartedAt: r.StartedAt,
		EndedAt:   r.EndedAt,
		Players:   r.Players,
	}
}
