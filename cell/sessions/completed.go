package sessions

import (
	"github.com/atollgg/atoll/cell/fleet"
	"github.com/atollgg/atoll/contract"
)

// KindMatchCompleted is the event kind of a finished match's results on the
// cell's stream: subject cell.<id>.match.completed.
const KindMatchCompleted = contract.KindMatchCompleted

// MatchCompleted is the body of a match.completed event (contract.MatchCompleted).
type MatchCompleted = contract.MatchCompleted

// MatchCompletedMsgID is the Nats-Msg-Id of a session's match.completed event.
func MatchCompletedMsgID(sessionID string) string { return contract.MatchCompletedMsgID(sessionID) }

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
