package matchmaking

import (
	"net"
	"strconv"
	"time"

	"github.com/atollgg/atoll/contract"
	"github.com/atollgg/atoll/internal/tokens"
)

// Status is a player's view of their ticket: the body of
// GET /matchmaking/status and of WebSocket "status" messages.
type Status struct {
	Status   TicketStatus `json:"status"`
	TicketID string       `json:"ticket_id"`
	GameMode string       `json:"game_mode"`
	// TimeInQueueMs and Window describe a queued ticket.
	TimeInQueueMs int64   `json:"time_in_queue_ms,omitempty"`
	Window        *Window `json:"window,omitempty"`
	// SessionID, Server and ConnectToken describe a matched ticket; the
	// connect token is reused until half its life is gone, and given only
	// while the session can still be joined.
	SessionID             string      `json:"session_id,omitempty"`
	Server                *ServerAddr `json:"server,omitempty"`
	ConnectToken          string      `json:"connect_token,omitempty"`
	ConnectTokenExpiresAt *time.Time  `json:"connect_token_expires_at,omitempty"`
	// SessionOver reports that the matched session ended or failed.
	SessionOver bool `json:"session_over,omitempty"`
}

// Window is a queued ticket's current search window.
type Window struct {
	Rating       float64 `json:"rating"`
	MaxLatencyMs int     `json:"max_latency_ms"`
}

// ServerAddr is where a matched player connects.
type ServerAddr struct {
	Host string `json:"host"`
	Port int    `json:"port"`
}

// statusOf returns playerID's view of their latest ticket; ok is false when
// they have none. Connect tokens are minted for playerID alone.
func (s *Service) statusOf(playerID string) (Status, bool) {
	s.mu.Lock()
	id, ok := s.byPlayer[playerID]
	var t Ticket
	if ok {
		t = *s.tickets[id]
	}
	s.mu.Unlock()
	if !ok {
		return Status{}, false
	}
	now := s.cfg.Now()
	st := Status{Status: t.Status, TicketID: t.ID, GameMode: t.Mode}
	switch t.Status {
	case StatusQueued:
		wait := max(now.Sub(t.EnqueuedAt), 0)
		st.TimeInQueueMs = wait.Milliseconds()
		m := s.modes[t.Mode]
		st.Window = &Window{Rating: m.RatingWindowAt(wait), MaxLatencyMs: m.MaxLatencyAt(wait)}
	case StatusMatched:
		st.SessionID = t.SessionID
		st.Server = &ServerAddr{Host: t.Host, Port: t.Port}
		if f := s.cfg.Forward; f != nil {
			// The player gets the relay's address, never the server's;
			// the server's travels sealed in the token (see Forward).
			st.Server = &ServerAddr{Host: f.RelayHost, Port: f.RelayPort}
		}
		st.SessionOver = t.Closed
		if !t.Closed {
			tok, exp, err := s.connects.get(t.ServerID, t.SessionID, playerID, now, func() (string, time.Time, error) {
				return s.connectToken(t.ServerID, t.SessionID, net.JoinHostPort(t.Host, strconv.Itoa(t.Port)), playerID, now)
			})
			if err != nil {
				s.log.Error("sign connect token", "session", t.SessionID, "err", err)
			} else {
				st.ConnectToken, st.ConnectTokenExpiresAt = tok, &exp
			}
		}
	}
	return st, true
}

func (s *Service) connectToken(serverID, sessionID, serverAddr, playerID string, now time.Time) (string, time.Time, error) {
	c := tokens.NewConnectClaims(s.cfg.Issuer, serverID, sessionID, playerID, now, s.cfg.ConnectTTL)
	if f := s.cfg.Forward; f != nil {
		sealed, err := contract.SealAddr(f.Key, sessionID, serverAddr)
		if err != nil {
			return "", time.Time{}, err
		}
		c.Forward = sealed
	}
	tok, err := s.cfg.ConnectKeys.Sign(c)
	if err != nil {
		return "", time.Time{}, err
	}
	return tok, c.ExpiresAt.Time, nil
}

// Forward is forwarded play: matched players are sent to the region's relay
// (RelayHost:RelayPort, which serves the game server's /connect) and their
// connect tokens carry the game server's address sealed with Key
// (contract.SealAddr), which only the region's relays hold. The relay
// verifies the token against this cell's connect keys (served at
// contract.ConnectJWKSPath) before dialing the server it names.
type Forward struct {
	RelayHost string
	RelayPort int
	Key       []byte
}
