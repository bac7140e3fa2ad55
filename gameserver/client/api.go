package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/atollgg/atoll/internal/httpx"
)

// The wire types below mirror the global core's and the cell's public JSON
// APIs, as any game client would: the client does not link the services.

// maxAPIResponse bounds a response body read from the core or the cell;
// the largest is a session with its results (~150 bytes per player).
const maxAPIResponse = 1 << 20

// Session is a logged-in player (POST /auth/device on the global core).
type Session struct {
	PlayerID     string `json:"player_id"`
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	ExpiresIn    int    `json:"expires_in"`
}

// TicketStatus values of a matchmaking ticket.
const (
	TicketQueued    = "queued"
	TicketMatched   = "matched"
	TicketTimedOut  = "timed_out"
	TicketCancelled = "cancelled"
)

// ServerAddr is where a matched player connects.
type ServerAddr struct {
	Host string `json:"host"`
	Port int    `json:"port"`
}

// Status is a player's matchmaking status (GET /matchmaking/status and the
// cell's /ws pushes).
type Status struct {
	Status       string      `json:"status"`
	TicketID     string      `json:"ticket_id"`
	GameMode     string      `json:"game_mode"`
	SessionID    string      `json:"session_id,omitempty"`
	Server       *ServerAddr `json:"server,omitempty"`
	ConnectToken string      `json:"connect_token,omitempty"`
	SessionOver  bool        `json:"session_over,omitempty"`
}

// Joinable reports whether the status carries what a client needs to
// connect to its game.
func (s *Status) Joinable() bool {
	return s.Status == TicketMatched && s.Server != nil && s.ConnectToken != "" && !s.SessionOver
}

// PlayerResult is one player's result as the cell records it.
type PlayerResult struct {
	PlayerID    string  `json:"player_id"`
	Team        int     `json:"team"`
	Score       int     `json:"score"`
	Kills       int     `json:"kills"`
	Deaths      int     `json:"deaths"`
	Placement   int     `json:"placement"`
	TimePlayedS float64 `json:"time_played_s"`
}

// SessionRecord is a game session as the cell shows it to its players
// (GET /sessions/{id}).
type SessionRecord struct {
	ID       string `json:"id"`
	GameMode string `json:"game_mode"`
	Region   string `json:"region"`
	// Status: allocating, waiting_for_players, active, ended or failed.
	Status  string `json:"status"`
	Results *struct {
		StartedAt time.Time      `json:"started_at"`
		EndedAt   time.Time      `json:"ended_at"`
		Players   []PlayerResult `json:"players"`
	} `json:"results,omitempty"`
	FailureReason string `json:"failure_reason,omitempty"`
}

// Terminal reports whether the session is over (ended or failed).
func (s *SessionRecord) Terminal() bool { return s.Status == "ended" || s.Status == "failed" }

// APIError is an error answer of the core or the cell.
type APIError struct {
	Status  int
	Code    string
	Message string
}

func (e *APIError) Error() string {
	return fmt.Sprintf("%d %s: %s", e.Status, e.Code, e.Message)
}

// API calls the global core and a cell over HTTP.
type API struct {
	GlobalURL string
	CellURL   string
	HTTP      *http.Client
}

// Login logs in as the guest of deviceID (creating the player the first
// time).
func (a *API) Login(ctx context.Context, deviceID string) (Session, error) {
	var s Session
	err := a.call(ctx, http.MethodPost, a.GlobalURL+"/auth/device", "", map[string]string{"device_id": deviceID}, &s)
	if err != nil {
		return s, fmt.Errorf("device login: %w", err)
	}
	if s.AccessToken == "" || s.PlayerID == "" {
		return s, errors.New("device login: answer without token or player id")
	}
	return s, nil
}

// Region returns the region the cell serves, from GET /matchmaking/modes.
func (a *API) Region(ctx context.Context) (string, error) {
	var body struct {
		Region string `json:"region"`
	}
	if err := a.call(ctx, http.MethodGet, a.CellURL+"/matchmaking/modes", "", nil, &body); err != nil {
		return "", fmt.Errorf("matchmaking modes: %w", err)
	}
	return body.Region, nil
}

// Join queues the player for mode with its latencies to each region.
func (a *API) Join(ctx context.Context, access, mode string, latenciesMs map[string]int) (string, error) {
	var body struct {
		TicketID string `json:"ticket_id"`
	}
	req := map[string]any{"game_mode": mode, "latencies_ms": latenciesMs}
	if err := a.call(ctx, http.MethodPost, a.CellURL+"/matchmaking/join", access, req, &body); err != nil {
		return "", fmt.Errorf("matchmaking join: %w", err)
	}
	return body.TicketID, nil
}

// Status returns the player's matchmaking status; a matched one carries a
// fresh connect token.
func (a *API) Status(ctx context.Context, access string) (Status, error) {
	var st Status
	if err := a.call(ctx, http.MethodGet, a.CellURL+"/matchmaking/status", access, nil, &st); err != nil {
		return st, fmt.Errorf("matchmaking status: %w", err)
	}
	return st, nil
}

// Session returns a session the player took part in.
func (a *API) Session(ctx context.Context, access, id string) (SessionRecord, error) {
	var s SessionRecord
	if err := a.call(ctx, http.MethodGet, a.CellURL+"/sessions/"+id, access, nil, &s); err != nil {
		return s, fmt.Errorf("session %s: %w", id, err)
	}
	return s, nil
}

// WatchURL is the cell's matchmaking WebSocket URL.
func (a *API) WatchURL() string {
	return "ws" + strings.TrimPrefix(a.CellURL, "http") + "/ws"
}

func (a *API) client() *http.Client {
	if a.HTTP != nil {
		return a.HTTP
	}
	return http.DefaultClient
}

func (a *API) call(ctx context.Context, method, url, bearer string, body, out any) error {
	req, err := httpx.NewJSONRequest(ctx, method, url, bearer, body)
	if err != nil {
		return err
	}
	resp, err := a.client().Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxAPIResponse))
	if err != nil {
		return err
	}
	if resp.StatusCode >= 300 {
		e := httpx.ParseError(resp.StatusCode, data)
		return &APIError{Status: e.Status, Code: e.Code, Message: e.Message}
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("decode answer: %w", err)
	}
	return nil
}
