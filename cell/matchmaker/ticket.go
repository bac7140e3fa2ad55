package matchmaker

import (
	"errors"
	"fmt"
	"time"
)

// Limits on tickets.
const (
	// MaxIDLen bounds ticket and player ids: Atoll's ids are 36-character
	// UUIDs, and the bound keeps a hostile caller from parking large strings
	// in the queue.
	MaxIDLen = 128
	// MaxAbsRating bounds a player's rating: real scales (Elo, Glicko, TrueSkill
	// ×100) stay far below it, and it keeps sums over a lobby exact enough
	// in float64.
	MaxAbsRating = 1e7
)

// Errors returned by Pool.Add; they are wrapped with details, test them with
// errors.Is.
var (
	// ErrInvalidTicket: a field of the ticket is missing or out of range.
	ErrInvalidTicket = errors.New("invalid ticket")
	// ErrWrongMode: the ticket names another mode than the pool's.
	ErrWrongMode = errors.New("ticket is for another mode")
	// ErrPartyTooLarge: the party has more players than one team holds.
	ErrPartyTooLarge = errors.New("party larger than the mode's team size")
	// ErrDuplicateTicket: a ticket with the same id is already queued.
	ErrDuplicateTicket = errors.New("ticket already queued")
	// ErrPlayerQueued: one of the players is already in a queued ticket.
	ErrPlayerQueued = errors.New("player already queued")
	// ErrPoolFull: the mode's queue holds MaxTickets tickets.
	ErrPoolFull = errors.New("matchmaking queue full")
)

// Player is one member of a ticket. Rating comes from the server's rating
// store, never from the client.
type Player struct {
	ID     string  `json:"id"`
	Rating float64 `json:"rating"`
}

// Ticket is a request of one player or a party to be matched in a mode.
type Ticket struct {
	ID   string `json:"id"`
	Mode string `json:"mode"`
	// Players is the party; all of them play on the same team.
	Players []Player `json:"players"`
	// LatencyMs is the ticket's measured round trip to this region.
	LatencyMs int `json:"latency_ms"`
	// EnqueuedAt is when the ticket first entered the queue. A ticket
	// requeued after a failed allocation keeps it, so it goes back to the
	// front and its windows stay widened.
	EnqueuedAt time.Time `json:"enqueued_at"`
}

// Rating is the party's rating for window purposes: the mean of its members.
func (t Ticket) Rating() float64 {
	if len(t.Players) == 0 {
		return 0
	}
	return t.ratingSum() / float64(len(t.Players))
}

func (t Ticket) ratingSum() float64 {
	var s float64
	for _, p := range t.Players {
		s += p.Rating
	}
	return s
}

// validate checks the ticket against mode m, without looking at the queue.
func (t Ticket) validate(m *Mode) error {
	switch {
	case t.ID == "":
		return fmt.Errorf("%w: ticket id is required", ErrInvalidTicket)
	case len(t.ID) > MaxIDLen:
		return fmt.Errorf("%w: ticket id is %d bytes, above the limit of %d", ErrInvalidTicket, len(t.ID), MaxIDLen)
	case t.Mode != m.Name:
		return fmt.Errorf("%w: ticket %q is for mode %q, this queue is %q", ErrWrongMode, t.ID, t.Mode, m.Name)
	case len(t.Players) == 0:
		return fmt.Errorf("%w: ticket %q has no players", ErrInvalidTicket, t.ID)
	case len(t.Players) > m.TeamSize:
		return fmt.Errorf("%w: ticket %q has %d players, mode %q allows parties of at most %d", ErrPartyTooLarge, t.ID, len(t.Players), m.Name, m.TeamSize)
	case t.LatencyMs < 0 || t.LatencyMs > MaxLatencyLimitMs:
		return fmt.Errorf("%w: ticket %q latency %d ms is outside 0..%d", ErrInvalidTicket, t.ID, t.LatencyMs, MaxLatencyLimitMs)
	case t.EnqueuedAt.IsZero():
		return fmt.Errorf("%w: ticket %q has no enqueue time", ErrInvalidTicket, t.ID)
	}
	for i, p := range t.Players {
		switch {
		case p.ID == "":
			return fmt.Errorf("%w: ticket %q player %d has no id", ErrInvalidTicket, t.ID, i)
		case len(p.ID) > MaxIDLen:
			return fmt.Errorf("%w: ticket %q player %d id is %d bytes, above the limit of %d", ErrInvalidTicket, t.ID, i, len(p.ID), MaxIDLen)
		case !finite(p.Rating) || p.Rating > MaxAbsRating || p.Rating < -MaxAbsRating:
			return fmt.Errorf("%w: ticket %q player %q rating %v is not a finite number within ±%g", ErrInvalidTicket, t.ID, p.ID, p.Rating, MaxAbsRating)
		}
		for _, q := range t.Players[:i] {
			if q.ID == p.ID {
				return fmt.Errorf("%w: ticket %q lists player %q twice", ErrInvalidTicket, t.ID, p.ID)
			}
		}
	}
	return nil
}
