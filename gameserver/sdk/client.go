package sdk

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/atollgg/atoll/internal/httpx"
)

// Retry backoff while the cell is unreachable (restarting) or answering
// 5xx/429. It starts small so a blip costs little and is capped at half the
// default heartbeat period, so a server reaches a restarted cell well
// before the cell would count it as missing heartbeats.
const (
	retryInitial = 50 * time.Millisecond
	retryMax     = time.Second
)

// requestTimeout bounds one ordinary SDK request: the cell answers from
// memory in microseconds, so a request still pending after 5 s is lost and
// retrying is better than waiting.
const requestTimeout = 5 * time.Second

// pollSlack is added to MaxWait for the client-side timeout of a long-poll,
// so a held request is cut by the cell's answer, not by our own timer.
const pollSlack = 5 * time.Second

// Connection pool to the cell: a server makes at most a long-poll, a
// heartbeat and a report at once, so four idle connections cover it; idle
// ones are dropped after the cell's own idle timeout would have closed them.
const (
	maxIdleConns    = 4
	idleConnTimeout = 90 * time.Second
)

// maxResponseBody bounds what the client reads from the cell: the largest
// answer is an allocation with MaxPlayers players and a small JWKS.
const maxResponseBody = 256 << 10

// ErrShutdown is returned when the cell says this server is shut down (it
// was scaled down, drained, or marked unhealthy): the server must exit.
var ErrShutdown = errors.New("sdk: the cell shut this server down")

// ErrCellUnreachable is returned by Heartbeat when no heartbeat has
// succeeded for the configured GiveUpAfter: the cell is gone for good.
var ErrCellUnreachable = errors.New("sdk: cell unreachable")

// APIError is a non-retryable error answer from the cell (4xx).
type APIError struct {
	Status  int
	Code    string
	Message string
}

func (e *APIError) Error() string {
	return fmt.Sprintf("sdk: cell answered %d %s: %s", e.Status, e.Code, e.Message)
}

// Client calls the cell's SDK API. Every call retries transport errors,
// 5xx and 429 with capped backoff until its context ends, so a server rides
// out a cell restart; 4xx answers are returned at once as *APIError. It is
// safe for concurrent use.
type Client struct {
	base     string
	serverID string
	auth     string
	period   time.Duration
	giveUp   time.Duration
	hc       *http.Client
}

// New checks cfg and returns a Client.
func New(cfg Config) (*Client, error) {
	if err := cfg.validate(); err != nil {
		return nil, fmt.Errorf("new sdk client: %w", err)
	}
	if cfg.HeartbeatPeriod == 0 {
		cfg.HeartbeatPeriod = DefaultHeartbeatPeriod
	}
	if cfg.GiveUpAfter == 0 {
		cfg.GiveUpAfter = DefaultGiveUpAfter
	}
	return &Client{
		base:     "http://" + cfg.Addr,
		serverID: cfg.ServerID,
		auth:     "Bearer " + cfg.Secret,
		period:   cfg.HeartbeatPeriod,
		giveUp:   cfg.GiveUpAfter,
		hc: &http.Client{Transport: &http.Transport{
			// The cell is local: no proxy, few connections, and dial
			// failures surface fast so retries stay tight.
			Proxy:               nil,
			DialContext:         (&net.Dialer{Timeout: requestTimeout}).DialContext,
			MaxIdleConnsPerHost: maxIdleConns,
			IdleConnTimeout:     idleConnTimeout,
		}},
	}, nil
}

// ServerID returns the server's id.
func (c *Client) ServerID() string { return c.serverID }

// HeartbeatPeriod returns how often Heartbeat calls the cell.
func (c *Client) HeartbeatPeriod() time.Duration { return c.period }

// Close releases idle connections.
func (c *Client) Close() { c.hc.CloseIdleConnections() }

// Ready tells the cell the server accepts players on its game port.
func (c *Client) Ready(ctx context.Context) (State, error) {
	return c.stateCall(ctx, PathReady, struct{}{})
}

// Health sends one heartbeat, without retrying; Heartbeat is the loop.
func (c *Client) Health(ctx context.Context) (State, error) {
	ctx, cancel := context.WithTimeout(ctx, c.period)
	defer cancel()
	var out StateResponse
	if err := c.once(ctx, http.MethodPost, PathHealth, struct{}{}, &out); err != nil {
		return "", err
	}
	return out.State, nil
}

// Heartbeat calls Health every heartbeat period until ctx ends. A failed
// heartbeat is simply retried at the next period. It returns ErrShutdown
// when the cell answers that the server is shut down, an *APIError when
// the cell refuses it (401: the cell does not know this server), and
// ErrCellUnreachable when heartbeats have failed for GiveUpAfter.
func (c *Client) Heartbeat(ctx context.Context) error {
	t := time.NewTicker(c.period)
	defer t.Stop()
	lastOK := time.Now()
	for {
		st, err := c.Health(ctx)
		var apiErr *APIError
		switch {
		case errors.As(err, &apiErr):
			return err
		case err == nil && st == StateShutdown:
			return ErrShutdown
		case err == nil:
			lastOK = time.Now()
		case ctx.Err() == nil && time.Since(lastOK) > c.giveUp:
			return fmt.Errorf("%w: no heartbeat answered for %v (last error: %w)", ErrCellUnreachable, c.giveUp, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}

// WatchAllocation long-polls the cell until the server is allocated and
// returns the validated allocation. It returns ErrShutdown if the server is
// shut down before being allocated. Calling it again after an allocation
// returns the same allocation.
func (c *Client) WatchAllocation(ctx context.Context) (*Allocation, error) {
	path := PathAllocation + "?" + WaitParam + "=" + MaxWait.String()
	for {
		var out AllocationResponse
		err := c.retry(ctx, func(ctx context.Context) error {
			ctx, cancel := context.WithTimeout(ctx, MaxWait+pollSlack)
			defer cancel()
			return c.once(ctx, http.MethodGet, path, nil, &out)
		})
		if err != nil {
			return nil, fmt.Errorf("watch allocation: %w", err)
		}
		switch out.State {
		case StateAllocated:
			if out.Allocation == nil {
				return nil, errors.New("watch allocation: cell said allocated without an allocation")
			}
			if err := out.Allocation.Validate(); err != nil {
				return nil, fmt.Errorf("watch allocation: invalid allocation: %w", err)
			}
			return out.Allocation, nil
		case StateShutdown, StateUnhealthy:
			return nil, ErrShutdown
		}
	}
}

// Active tells the cell the game has started.
func (c *Client) Active(ctx context.Context) error {
	_, err := c.stateCall(ctx, PathActive, struct{}{})
	return err
}

// PlayerConnected tells the cell a player has joined (after its connect
// token was verified).
func (c *Client) PlayerConnected(ctx context.Context, playerID string) error {
	_, err := c.stateCall(ctx, PathPlayerConnected, PlayerEvent{PlayerID: playerID})
	return err
}

// PlayerDisconnected tells the cell a player has left.
func (c *Client) PlayerDisconnected(ctx context.Context, playerID string) error {
	_, err := c.stateCall(ctx, PathPlayerDisconnected, PlayerEvent{PlayerID: playerID})
	return err
}

// ReportResults sends the match's results. Reporting the same results
// again (a retry after a lost answer) is accepted.
func (c *Client) ReportResults(ctx context.Context, r Results) error {
	if err := r.Validate(); err != nil {
		return fmt.Errorf("report results: %w", err)
	}
	_, err := c.stateCall(ctx, PathResults, r)
	return err
}

// Telemetry sends a batch of telemetry events, retrying like every call
// until ctx ends. Callers bound ctx: telemetry is best effort.
func (c *Client) Telemetry(ctx context.Context, b TelemetryBatch) error {
	if err := b.Validate(); err != nil {
		return fmt.Errorf("telemetry: %w", err)
	}
	_, err := c.stateCall(ctx, PathTelemetry, b)
	return err
}

// Shutdown tells the cell the server is exiting; reason is empty after a
// normal end. The server should exit soon after: the cell kills servers that
// linger.
func (c *Client) Shutdown(ctx context.Context, reason string) error {
	if len(reason) > MaxReasonLength {
		reason = strings.ToValidUTF8(reason[:MaxReasonLength], "")
	}
	_, err := c.stateCall(ctx, PathShutdown, ShutdownRequest{Reason: reason})
	return err
}

func (c *Client) stateCall(ctx context.Context, path string, body any) (State, error) {
	var out StateResponse
	err := c.retry(ctx, func(ctx context.Context) error {
		ctx, cancel := context.WithTimeout(ctx, requestTimeout)
		defer cancel()
		return c.once(ctx, http.MethodPost, path, body, &out)
	})
	if err != nil {
		return "", fmt.Errorf("sdk %s: %w", path, err)
	}
	return out.State, nil
}

// retry runs call until it succeeds, fails with an *APIError, or ctx ends.
func (c *Client) retry(ctx context.Context, call func(context.Context) error) error {
	backoff := retryInitial
	for {
		err := call(ctx)
		var apiErr *APIError
		if err == nil || errors.As(err, &apiErr) {
			return err
		}
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("%w (last error: %w)", ctx.Err(), err)
		case <-t.C:
		}
		backoff = min(backoff*2, retryMax)
	}
}

// retryableStatus is an answer worth retrying: the cell is overloaded,
// restarting behind a proxy, or failed internally.
type retryableStatus struct{ status int }

func (e *retryableStatus) Error() string { return fmt.Sprintf("cell answered %d", e.status) }

func (c *Client) once(ctx context.Context, method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			return fmt.Errorf("encode request: %w", err)
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return fmt.Errorf("build request: %w", err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Authorization", c.auth)
	req.Header.Set(HeaderServerID, c.serverID)
	resp, err := c.hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBody))
	if err != nil {
		return fmt.Errorf("read answer: %w", err)
	}
	switch {
	case resp.StatusCode == http.StatusOK:
		if err := json.Unmarshal(data, out); err != nil {
			return fmt.Errorf("decode answer: %w", err)
		}
		return nil
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
		return &retryableStatus{status: resp.StatusCode}
	default:
		e := httpx.ParseError(resp.StatusCode, data)
		return &APIError{Status: e.Status, Code: e.Code, Message: e.Message}
	}
}
