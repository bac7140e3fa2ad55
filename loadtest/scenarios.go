package loadtest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/atollgg/atoll/gameserver/client"
	"github.com/atollgg/atoll/internal/httpx"
	"github.com/coder/websocket"
)

// maxAnswer bounds a response body the load test reads.
const maxAnswer = 1 << 20

// playerFunc is one virtual player: it loops until ctx ends, recording its
// steps; hard ends the step in flight.
type playerFunc func(ctx, hard context.Context, i int)

func (r *run) scenario() playerFunc {
	switch r.opts.Scenario {
	case Auth:
		return r.auth
	case Matchmaking:
		return r.match(false)
	case Journey:
		return r.match(true)
	case Idle:
		return r.idle
	case Telemetry:
		return r.telemetry
	default:
		return r.purchase
	}
}

// step times fn as step and records its outcome; it reports whether fn
// succeeded. A step cut by the end of the run is not a sample.
func (r *run) step(ctx context.Context, name string, fn func() error) bool {
	t0 := time.Now()
	err := fn()
	if err != nil && ctx.Err() != nil {
		return false
	}
	r.rec.Observe(name, t0, err)
	return err == nil
}

// call sends a JSON request and decodes a 2xx answer into out (when
// non-nil); other answers come back as *httpx.Error.
func (r *run) call(ctx context.Context, method, url, bearer string, body, out any, headers ...string) error {
	req, err := httpx.NewJSONRequest(ctx, method, url, bearer, body)
	if err != nil {
		return err
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := r.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		return httpx.ParseError(resp.StatusCode, data)
	}
	if out != nil {
		return json.Unmarshal(data, out)
	}
	return nil
}

func (r *run) login(ctx context.Context, device string) (client.Session, bool) {
	var s client.Session
	ok := r.step(ctx, "login", func() error {
		return r.call(ctx, http.MethodPost, r.opts.Target+"/auth/device", "", map[string]string{"device_id": device}, &s)
	})
	return s, ok
}

// backoff pauses a player after a failed step, so a failing server is not
// also hammered by a retry storm from the generator.
func backoff(ctx context.Context) {
	sleepUntil(ctx, time.Now().Add(200*time.Millisecond))
}

func (r *run) auth(ctx, _ context.Context, _ int) {
	device := newDeviceID()
	for ctx.Err() == nil {
		if _, ok := r.login(ctx, device); !ok {
			backoff(ctx)
		}
	}
}

// match plays matches back to back: join → matched, then the match as a
// bot; with results, the journey also waits for the cell's record of the
// results.
func (r *run) match(results bool) playerFunc {
	return func(ctx, hard context.Context, _ int) {
		api := &client.API{GlobalURL: r.opts.Target, CellURL: r.opts.CellURL, HTTP: r.http}
		sess, ok := r.login(ctx, newDeviceID())
		if !ok {
			return
		}
		var region string
		if !r.step(ctx, "region", func() (err error) { region, err = api.Region(ctx); return err }) {
			return
		}
		for ctx.Err() == nil {
			t0 := time.Now()
			if !r.step(ctx, "join", func() error {
				_, err := api.Join(ctx, sess.AccessToken, r.opts.Mode, map[string]int{region: client.DefaultLatencyMs})
				return err
			}) {
				backoff(ctx)
				continue
			}
			var st client.Status
			matched := r.step(ctx, "match", func() (err error) {
				st, err = client.WaitMatched(ctx, api, sess.AccessToken)
				return err
			})
			if !matched {
				continue
			}
			// The match is played to its end even past the deadline (up to
			// the hard stop): a player leaving mid-match is not the load
			// being measured.
			if !r.step(hard, "play", func() error {
				conn, err := client.Dial(hard, client.URL(st.Server.Host, st.Server.Port), st.ConnectToken, client.Options{HTTPClient: r.http})
				if err != nil {
					return err
				}
				defer conn.Close()
				_, err = conn.PlayBot(hard, uint64(t0.UnixNano()))
				return err
			}) {
				continue
			}
			if results && !r.step(hard, "results", func() error {
				_, err := client.WaitSessionOver(hard, api, sess.AccessToken, st.SessionID)
				return err
			}) {
				continue
			}
			r.matches.Add(1)
			r.rec.Observe("journey", t0, nil)
		}
	}
}

// idle connects a player to the cell's WebSocket and holds it until the
// end, as a player waiting in menus does.
func (r *run) idle(ctx, _ context.Context, _ int) {
	sess, ok := r.login(ctx, newDeviceID())
	if !ok {
		return
	}
	url := "ws" + strings.TrimPrefix(r.opts.CellURL, "http") + "/ws"
	for ctx.Err() == nil {
		var ws *websocket.Conn
		if !r.step(ctx, "connect", func() (err error) {
			ws, _, err = websocket.Dial(ctx, url, &websocket.DialOptions{
				HTTPClient: r.http, HTTPHeader: http.Header{"Authorization": {"Bearer " + sess.AccessToken}},
			})
			return err
		}) {
			backoff(ctx)
			continue
		}
		r.connected.Add(1)
		// Reading answers the cell's pings and discards its status pushes,
		// as a client idling in menus does; it ends when the run or the
		// connection does.
		ws.SetReadLimit(maxAnswer)
		for ctx.Err() == nil {
			if _, _, err := ws.Read(ctx); err != nil {
				break
			}
		}
		r.connected.Add(-1)
		if ctx.Err() != nil {
			_ = ws.Close(websocket.StatusNormalClosure, "load test over")
			return
		}
		r.rec.Observe("dropped", time.Now(), errors.New("connection dropped by the cell"))
		ws.CloseNow()
	}
}

// telemetryEvent is one event of the cell's telemetry batches.
type telemetryEvent struct {
	EventID   string          `json:"event_id"`
	SessionID string          `json:"session_id,omitempty"`
	EventType string          `json:"event_type"`
	Payload   json.RawMessage `json:"payload"`
	Timestamp time.Time       `json:"timestamp"`
}

func (r *run) telemetry(ctx, _ context.Context, _ int) {
	sess, ok := r.login(ctx, newDeviceID())
	if !ok {
		return
	}
	batch := make([]telemetryEvent, r.opts.Batch)
	payload := json.RawMessage(`{"fps":60,"ping_ms":23,"map":"arena"}`)
	for ctx.Err() == nil {
		now := time.Now().UTC()
		for i := range batch {
			batch[i] = telemetryEvent{EventID: newEventID(), EventType: "client.frame_stats", Payload: payload, Timestamp: now}
		}
		body := map[string]any{"batch_id": newEventID(), "events": batch}
		if r.step(ctx, "telemetry", func() error {
			return r.call(ctx, http.MethodPost, r.opts.CellURL+"/game/telemetry", sess.AccessToken, body, nil)
		}) {
			r.events.Add(int64(len(batch)))
		} else {
			backoff(ctx)
		}
	}
}

type catalogItem struct {
	ID     string           `json:"id"`
	Prices map[string]int64 `json:"prices"`
}

// purchase buys the cheapest item priced in a soft currency, and starts
// again as a new guest once the wallet cannot pay.
func (r *run) purchase(ctx, _ context.Context, _ int) {
	for ctx.Err() == nil {
		sess, ok := r.login(ctx, newDeviceID())
		if !ok {
			backoff(ctx)
			continue
		}
		item, currency, err := r.cheapest(ctx, sess.AccessToken)
		if err != nil {
			r.rec.Observe("catalog", time.Now(), err)
			return
		}
		for ctx.Err() == nil {
			var he *httpx.Error
			err := r.call(ctx, http.MethodPost, r.opts.Target+"/store/purchase", sess.AccessToken,
				map[string]any{"item_template_id": item, "quantity": 1, "currency": currency}, nil, "Idempotency-Key", newEventID())
			if errors.As(err, &he) && he.Status == http.StatusConflict {
				break // the wallet ran dry: a new player
			}
			r.step(ctx, "purchase", func() error { return err })
			if err != nil {
				backoff(ctx)
			}
		}
	}
}

func (r *run) cheapest(ctx context.Context, access string) (string, string, error) {
	var cat struct {
		Items []catalogItem `json:"items"`
	}
	if err := r.call(ctx, http.MethodGet, r.opts.Target+"/store/catalog", access, nil, &cat); err != nil {
		return "", "", fmt.Errorf("catalog: %w", err)
	}
	best, cur, price := "", "", int64(-1)
	for _, it := range cat.Items {
		for c, p := range it.Prices {
			if c == "coins" && p > 0 && (price < 0 || p < price) {
				best, cur, price = it.ID, c, p
			}
		}
	}
	if best == "" {
		return "", "", errors.New("catalog: no item priced in coins")
	}
	return best, cur, nil
}

func newEventID() string { return newDeviceID()[3:] }

// cellRSS reads the cell's resident memory from its Prometheus metrics
// (process_resident_memory_bytes), for memory per connected player.
func (r *run) cellRSS(ctx context.Context) (float64, bool) {
	if r.opts.CellURL == "" {
		return 0, false
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.opts.CellURL+"/metrics", nil)
	if err != nil {
		return 0, false
	}
	resp, err := r.http.Do(req)
	if err != nil {
		return 0, false
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(io.LimitReader(resp.Body, 4*maxAnswer))
	sc.Buffer(make([]byte, 64<<10), 64<<10)
	for sc.Scan() {
		if v, ok := bytes.CutPrefix(sc.Bytes(), []byte("process_resident_memory_bytes ")); ok {
			f, err := strconv.ParseFloat(string(v), 64)
			return f, err == nil
		}
	}
	return 0, false
}
