package client

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"net/http"
	"time"

	"github.com/atollgg/atoll/gameserver/netcode"
	"github.com/coder/websocket"
)

// Defaults of JourneyConfig's zero values, and the journey's timings.
const (
	// DefaultLatencyMs is the round trip reported to the cell's region when
	// none is given: a nearby player's.
	DefaultLatencyMs = 20
	// DefaultMaxReconnects is how many times a dropped game connection is
	// redialled with a fresh connect token.
	DefaultMaxReconnects = 3
	// DefaultResultTimeout bounds the wait for the cell to record the
	// match's results after it ended: the server reports them, shuts down,
	// and the fleet's event reaches the session within a second or two.
	DefaultResultTimeout = 30 * time.Second
	// statusPollInterval paces polling GET /matchmaking/status when the
	// cell's WebSocket is unavailable, and while waiting for results.
	statusPollInterval = 250 * time.Millisecond
	// reconnectBackoff separates reconnect attempts, so a server that is
	// restarting its listener is not hammered.
	reconnectBackoff = 200 * time.Millisecond
	// apiTimeout bounds one HTTP call to the core or the cell.
	apiTimeout = 10 * time.Second
	// maxWatchMessage bounds one message of the cell's WebSocket: a status
	// with a connect token.
	maxWatchMessage = 16 << 10
)

// JourneyConfig configures one player's whole journey.
type JourneyConfig struct {
	// GlobalURL is the global core (device login). Required.
	GlobalURL string
	// CellURL is the cell to play in (matchmaking, sessions). Required.
	CellURL string
	// Mode is the game mode to queue for. Required.
	Mode string
	// DeviceID is the guest's device id; empty means a random one (a new
	// player).
	DeviceID string
	// LatencyMs is the round trip reported for the cell's region; zero
	// means DefaultLatencyMs.
	LatencyMs int
	// Latencies are measured round trips per region (LatenciesMs of
	// ProbeRegions) sent with the join; the cell's region, if missing, gets
	// LatencyMs. Zero means only the cell's region, at LatencyMs.
	Latencies map[string]int
	// HTTPClient calls the core and the cell and dials WebSockets; nil
	// means a client with a per-call timeout.
	HTTPClient *http.Client
	// Options tune the game connection.
	Options Options
	// NewDriver makes the player's driver once it is seated; nil means a
	// Bot seeded from the player id.
	NewDriver func(w netcode.Welcome, playerID string) (Driver, error)
	// GameURL maps the matched server's address to the URL to dial; nil
	// means URL. Tests route the game through a proxy with it.
	GameURL func(host string, port int) string
	// OnConnect, if set, sees every new game connection before play starts
	// (tests use it to cut connections).
	OnConnect func(*Conn)
	// MaxReconnects is how many times a dropped connection is redialled;
	// zero means DefaultMaxReconnects, negative none.
	MaxReconnects int
	// ResultTimeout bounds waiting for the cell's record of the results;
	// zero means DefaultResultTimeout.
	ResultTimeout time.Duration
}

// JourneyResult is what one player's journey went through.
type JourneyResult struct {
	PlayerID  string
	TicketID  string
	SessionID string
	// Game is the last game connection's result; Connections counts them
	// (1 + reconnects).
	Game        Result
	Connections int
	// Session is the cell's record of the session, with the results the
	// game server reported.
	Session SessionRecord
	// Timings of the journey's steps.
	LoginTook, MatchTook, PlayTook time.Duration
}

// MyResult returns the player's own result as the cell recorded it.
func (r *JourneyResult) MyResult() (PlayerResult, bool) {
	if r.Session.Results == nil {
		return PlayerResult{}, false
	}
	for _, p := range r.Session.Results.Players {
		if p.PlayerID == r.PlayerID {
			return p, true
		}
	}
	return PlayerResult{}, false
}

// PlayJourney walks one player through a match: device login against the
// global core, matchmaking on the cell until matched, the game over its
// WebSocket (reconnecting with fresh connect tokens if the connection
// drops), and the results as the cell records them.
func PlayJourney(ctx context.Context, cfg JourneyConfig) (JourneyResult, error) {
	var jr JourneyResult
	if cfg.GlobalURL == "" || cfg.CellURL == "" || cfg.Mode == "" {
		return jr, errors.New("journey: GlobalURL, CellURL and Mode are required")
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: apiTimeout}
	}
	if cfg.Options.HTTPClient == nil {
		cfg.Options.HTTPClient = cfg.HTTPClient
	}
	if cfg.LatencyMs <= 0 {
		cfg.LatencyMs = DefaultLatencyMs
	}
	if cfg.MaxReconnects == 0 {
		cfg.MaxReconnects = DefaultMaxReconnects
	}
	if cfg.ResultTimeout <= 0 {
		cfg.ResultTimeout = DefaultResultTimeout
	}
	if cfg.GameURL == nil {
		cfg.GameURL = URL
	}
	if cfg.DeviceID == "" {
		var b [12]byte
		_, _ = rand.Read(b[:]) // never fails; see crypto/rand
		cfg.DeviceID = "atoll-go-" + hex.EncodeToString(b[:])
	}
	api := &API{GlobalURL: cfg.GlobalURL, CellURL: cfg.CellURL, HTTP: cfg.HTTPClient}

	t0 := time.Now()
	sess, err := api.Login(ctx, cfg.DeviceID)
	if err != nil {
		return jr, err
	}
	jr.PlayerID = sess.PlayerID
	jr.LoginTook = time.Since(t0)

	t0 = time.Now()
	region, err := api.Region(ctx)
	if err != nil {
		return jr, err
	}
	lat := map[string]int{}
	for id, ms := range cfg.Latencies {
		lat[id] = ms
	}
	if _, ok := lat[region]; !ok {
		lat[region] = cfg.LatencyMs
	}
	if jr.TicketID, err = api.Join(ctx, sess.AccessToken, cfg.Mode, lat); err != nil {
		return jr, err
	}
	st, err := WaitMatched(ctx, api, sess.AccessToken)
	if err != nil {
		return jr, err
	}
	jr.SessionID = st.SessionID
	jr.MatchTook = time.Since(t0)

	t0 = time.Now()
	if err := playSession(ctx, cfg, api, sess, st, &jr); err != nil {
		return jr, err
	}
	jr.PlayTook = time.Since(t0)

	rctx, cancel := context.WithTimeout(ctx, cfg.ResultTimeout)
	defer cancel()
	if jr.Session, err = WaitSessionOver(rctx, api, sess.AccessToken, jr.SessionID); err != nil {
		return jr, err
	}
	return jr, nil
}

// playSession plays the matched session, reconnecting with a fresh connect
// token when the connection drops.
func playSession(ctx context.Context, cfg JourneyConfig, api *API, sess Session, st Status, jr *JourneyResult) error {
	var (
		driver   Driver
		seat     = -1
		attempts = 0
	)
	for {
		conn, err := Dial(ctx, cfg.GameURL(st.Server.Host, st.Server.Port), st.ConnectToken, cfg.Options)
		if err == nil {
			jr.Connections++
			w := conn.Welcome()
			if driver == nil || int(w.Player) != seat {
				if driver, err = newDriver(cfg, w, sess.PlayerID); err != nil {
					_ = conn.Close()
					return err
				}
				seat = int(w.Player)
			}
			if cfg.OnConnect != nil {
				cfg.OnConnect(conn)
			}
			jr.Game, err = conn.Play(ctx, driver)
			if err == nil {
				return nil
			}
		}
		if ctx.Err() != nil || !reconnectable(err) || attempts >= max(cfg.MaxReconnects, 0) {
			return fmt.Errorf("play session %s: %w", st.SessionID, err)
		}
		attempts++
		t := time.NewTimer(reconnectBackoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
		next, serr := api.Status(ctx, sess.AccessToken)
		if serr != nil {
			return fmt.Errorf("reconnect: %w", serr)
		}
		if next.SessionID != st.SessionID || next.SessionOver {
			// The match ended (or failed) while we were away.
			return nil
		}
		if !next.Joinable() {
			return fmt.Errorf("reconnect: session %s cannot be joined (%s)", st.SessionID, next.Status)
		}
		st = next
	}
}

// reconnectable reports whether a failed connection is worth redialling.
func reconnectable(err error) bool {
	var ce *CloseError
	if errors.As(err, &ce) {
		return ce.Retryable()
	}
	return !errors.Is(err, ErrProtocol) && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded)
}

func newDriver(cfg JourneyConfig, w netcode.Welcome, playerID string) (Driver, error) {
	if cfg.NewDriver != nil {
		return cfg.NewDriver(w, playerID)
	}
	h := fnv.New64a()
	h.Write([]byte(playerID))
	return NewBot(w.Config, w.Player, h.Sum64())
}

// WaitMatched waits until the player's ticket is matched to a joinable
// session, listening on the cell's WebSocket and falling back to polling
// the status if the WebSocket is unavailable. A ticket that times out or
// is cancelled is an error.
func WaitMatched(ctx context.Context, api *API, access string) (Status, error) {
	st, err := watchMatched(ctx, api, access)
	if err == nil || ctx.Err() != nil || errors.Is(err, errTicketEnded) {
		return st, err
	}
	tick := time.NewTicker(statusPollInterval)
	defer tick.Stop()
	for {
		st, err := api.Status(ctx, access)
		if err != nil {
			return st, err
		}
		if done, err := matchedOrEnded(st); done {
			return st, err
		}
		select {
		case <-ctx.Done():
			return st, ctx.Err()
		case <-tick.C:
		}
	}
}

var errTicketEnded = errors.New("matchmaking ticket ended without a match")

func matchedOrEnded(st Status) (bool, error) {
	switch {
	case st.Joinable():
		return true, nil
	case st.Status == TicketTimedOut || st.Status == TicketCancelled:
		return true, fmt.Errorf("%w: %s", errTicketEnded, st.Status)
	}
	return false, nil
}

// watchMatched follows the cell's /ws pushes until matched.
func watchMatched(ctx context.Context, api *API, access string) (Status, error) {
	ws, _, err := websocket.Dial(ctx, api.WatchURL(), &websocket.DialOptions{
		HTTPClient: api.HTTP, HTTPHeader: http.Header{"Authorization": {"Bearer " + access}},
	})
	if err != nil {
		return Status{}, fmt.Errorf("matchmaking websocket: %w", err)
	}
	defer ws.CloseNow()
	ws.SetReadLimit(maxWatchMessage)
	for {
		_, data, err := ws.Read(ctx)
		if err != nil {
			return Status{}, fmt.Errorf("matchmaking websocket: %w", err)
		}
		var m struct {
			Type   string  `json:"type"`
			Status *Status `json:"status"`
		}
		if err := json.Unmarshal(data, &m); err != nil || m.Status == nil {
			continue
		}
		if done, err := matchedOrEnded(*m.Status); done {
			_ = ws.Close(websocket.StatusNormalClosure, "matched")
			return *m.Status, err
		}
	}
}

// WaitSessionOver polls the session until the cell records its end (with
// the results) or its failure; a failed session is an error.
func WaitSessionOver(ctx context.Context, api *API, access, sessionID string) (SessionRecord, error) {
	tick := time.NewTicker(statusPollInterval)
	defer tick.Stop()
	for {
		rec, err := api.Session(ctx, access, sessionID)
		if err != nil {
			return rec, err
		}
		if rec.Terminal() {
			if rec.Status != "ended" {
				return rec, fmt.Errorf("session %s %s: %s", sessionID, rec.Status, rec.FailureReason)
			}
			return rec, nil
		}
		select {
		case <-ctx.Done():
			return rec, fmt.Errorf("session %s not over (%s): %w", sessionID, rec.Status, ctx.Err())
		case <-tick.C:
		}
	}
}
