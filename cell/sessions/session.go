// Package sessions owns a cell's game-session records: created when a match
// is allocated, advanced by the fleet's events (carried by the cell-local
// session-event stream, EventLog), kept in a JetStream KV bucket so they
// survive a cell restart, and the match.completed event.
package sessions

import (
	"time"

	"github.com/atollgg/atoll/cell/fleet"
)

// Status is where a session is in its life.
type Status string

// Session statuses. Ended and failed are terminal: nothing changes them.
const (
	StatusAllocating        Status = "allocating"
	StatusWaitingForPlayers Status = "waiting_for_players"
	StatusActive            Status = "active"
	StatusEnded             Status = "ended"
	StatusFailed            Status = "failed"
)

// Terminal reports whether s is ended or failed.
func (s Status) Terminal() bool { return s == StatusEnded || s == StatusFailed }

// Live reports whether players may still connect: the server is allocated
// and the game not over.
func (s Status) Live() bool { return s == StatusWaitingForPlayers || s == StatusActive }

// Player is one participant of a session.
type Player struct {
	ID        string `json:"id"`
	Team      int    `json:"team"`
	TicketID  string `json:"ticket_id"`
	Connected bool   `json:"connected"`
}

// Server is where the session is played.
type Server struct {
	ID   string `json:"-"` // internal: players learn host and port only
	Host string `json:"host"`
	Port int    `json:"port"`
}

// Session is a GameSession as the blueprint describes it.
type Session struct {
	ID       string `json:"id"`
	GameMode string `json:"game_mode"`
	Region   string `json:"region"`
	Status   Status `json:"status"`
	// CreatedAt is when the match was formed.
	CreatedAt time.Time `json:"created_at"`
	// StartTime is when the game started (the server reported it active);
	// EndTime when it ended or failed.
	StartTime *time.Time `json:"start_time,omitempty"`
	EndTime   *time.Time `json:"end_time,omitempty"`
	// Server is set once allocated.
	Server  *Server        `json:"server,omitempty"`
	Players []Player       `json:"players"`
	Results *fleet.Results `json:"results,omitempty"`
	// FailureReason says why a failed session failed.
	FailureReason string `json:"failure_reason,omitempty"`
}

// stored is a Session as kept in the KV: with its server id, which the
// public JSON leaves out.
type stored struct {
	Session
	ServerID string `json:"server_id,omitempty"`
}

// HasPlayer reports whether id plays in the session.
func (s *Session) HasPlayer(id string) bool {
	for _, p := range s.Players {
		if p.ID == id {
			return true
		}
	}
	return false
}

// PlayerIDs lists the session's players.
func (s *Session) PlayerIDs() []string {
	ids := make([]string, len(s.Players))
	for i, p := range s.Players {
		ids[i] = p.ID
	}
	return ids
}

// Apply advances s by a fleet event and reports whether anything changed.
// It is idempotent and never leaves a terminal status, so repeated or late
// events (the fleet re-emits terminal events after a restart) are harmless.
func (s *Session) Apply(ev fleet.Event) bool {
	if s.Status.Terminal() || ev.SessionID != s.ID {
		return false
	}
	at := ev.At
	if at.IsZero() {
		at = time.Now()
	}
	switch ev.Kind {
	case fleet.EventPlayerConnected, fleet.EventPlayerDisconnected:
		want := ev.Kind == fleet.EventPlayerConnected
		for i := range s.Players {
			if s.Players[i].ID == ev.PlayerID && s.Players[i].Connected != want {
				s.Players[i].Connected = want
				return true
			}
		}
		return false
	case fleet.EventSessionActive:
		if s.Status == StatusActive {
			return false
		}
		s.Status = StatusActive
		s.StartTime = &at
		return true
	case fleet.EventSessionEnded:
		s.Status = StatusEnded
		s.EndTime = &at
		s.Results = ev.Results
		if s.StartTime == nil && ev.Results != nil && !ev.Results.StartedAt.IsZero() {
			started := ev.Results.StartedAt
			s.StartTime = &started
		}
		for i := range s.Players {
			s.Players[i].Connected = false
		}
		return true
	case fleet.EventSessionFailed:
		s.Status = StatusFailed
		s.EndTime = &at
		s.FailureReason = ev.Reason
		if s.FailureReason == "" {
			s.FailureReason = "game server failed"
		}
		for i := range s.Players {
			s.Players[i].Connected = false
		}
		return true
	}
	return false
}
