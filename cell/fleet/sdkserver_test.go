package fleet

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/atollgg/atoll/gameserver/sdk"
)

// sdkCaller calls the SDK API as a real game server, with the credentials
// the fleet gave that server's process.
type sdkCaller struct {
	t              *testing.T
	addr, id, auth string
}

func callerFor(t *testing.T, pid int) *sdkCaller {
	env := processEnv(t, pid)
	return &sdkCaller{t: t, addr: env[sdk.EnvSDKAddr], id: env[sdk.EnvServerID], auth: "Bearer " + env[sdk.EnvSDKSecret]}
}

type apiAnswer struct {
	status int
	code   string
	body   []byte
}

func (c *sdkCaller) do(method, path, contentType string, body []byte, header map[string]string) apiAnswer {
	c.t.Helper()
	req, err := http.NewRequest(method, "http://"+c.addr+path, bytes.NewReader(body))
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set(sdk.HeaderServerID, c.id)
	req.Header.Set("Authorization", c.auth)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	_, _ = buf.ReadFrom(resp.Body)
	var env struct {
		Error struct {
			Code string `json:"code"`
		} `json:"error"`
	}
	_ = json.Unmarshal(buf.Bytes(), &env)
	return apiAnswer{status: resp.StatusCode, code: env.Error.Code, body: buf.Bytes()}
}

type apiCase struct {
	name        string
	method      string
	path        string
	contentType string
	body        string
	header      map[string]string
	status      int
	code        string
}

func (c *sdkCaller) check(cases []apiCase) {
	c.t.Helper()
	for _, tc := range cases {
		ct := tc.contentType
		if ct == "" && tc.body != "" {
			ct = "application/json"
		}
		got := c.do(tc.method, tc.path, ct, []byte(tc.body), tc.header)
		if got.status != tc.status || got.code != tc.code {
			c.t.Errorf("%s: %s %s = %d %q (%s), want %d %q", tc.name, tc.method, tc.path, got.status, got.code, got.body, tc.status, tc.code)
		}
	}
}

// telemetry is a one-event telemetry batch about player.
func telemetry(batch, session, player string) string {
	b, _ := json.Marshal(sdk.TelemetryBatch{BatchID: batch, SessionID: session, Events: []sdk.TelemetryEvent{
		{Kind: "anticheat.violation", PlayerID: player, At: time.Unix(100, 0).UTC(), Data: json.RawMessage(`{"violation":"speed"}`)},
	}})
	return string(b)
}

func TestSDKAPIAuthAndValidation(t *testing.T) {
	env := newTestEnv(t)
	cfg := env.config(t)
	cfg.Max = 1
	// The server is frozen below and the test speaks for it; the threshold
	// keeps the fleet from declaring it dead meanwhile.
	cfg.FailureThreshold = 1000
	cfg.StopGrace = 100 * time.Millisecond
	stored := make(chan Telemetry, 4)
	cfg.Telemetry = func(_ context.Context, tm Telemetry) error {
		stored <- tm
		return nil
	}
	f := startFleet(t, cfg)
	srv := waitReady(t, f, 1)[0]
	if err := syscall.Kill(srv.PID, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	c := callerFor(t, srv.PID)

	big := `{"player_id":"` + strings.Repeat("x", sdk.MaxSmallBody) + `"}`
	c.check([]apiCase{
		{name: "no secret", method: "POST", path: sdk.PathHealth, header: map[string]string{"Authorization": ""}, status: 401, code: "unauthenticated"},
		{name: "wrong secret", method: "POST", path: sdk.PathHealth, header: map[string]string{"Authorization": "Bearer nope"}, status: 401, code: "unauthenticated"},
		{name: "unknown server", method: "POST", path: sdk.PathHealth, header: map[string]string{sdk.HeaderServerID: "someone-else"}, status: 401, code: "unauthenticated"},
		{name: "health", method: "POST", path: sdk.PathHealth, status: 200},
		{name: "health with junk body", method: "POST", path: sdk.PathHealth, body: `[1]`, status: 400, code: "invalid_argument"},
		{name: "poll without wait", method: "GET", path: sdk.PathAllocation, status: 200},
		{name: "bad wait", method: "GET", path: sdk.PathAllocation + "?wait=soon", status: 400, code: "invalid_argument"},
		{name: "results before allocation", method: "POST", path: sdk.PathResults, body: `{"session_id":"x","started_at":"2026-01-01T00:00:00Z","ended_at":"2026-01-01T00:00:01Z","players":[]}`, status: 409, code: "conflict"},
		{name: "player before allocation", method: "POST", path: sdk.PathPlayerConnected, body: `{"player_id":"p1"}`, status: 409, code: "conflict"},
		{name: "active before allocation", method: "POST", path: sdk.PathActive, status: 409, code: "conflict"},
		{name: "telemetry before allocation", method: "POST", path: sdk.PathTelemetry, body: telemetry("b0", "x", "p1"), status: 409, code: "conflict"},
		{name: "empty player id", method: "POST", path: sdk.PathPlayerConnected, body: `{"player_id":""}`, status: 400, code: "invalid_argument"},
		{name: "unknown field", method: "POST", path: sdk.PathPlayerConnected, body: `{"player_id":"p1","x":1}`, status: 400, code: "invalid_argument"},
		{name: "trailing data", method: "POST", path: sdk.PathPlayerConnected, body: `{"player_id":"p1"} {}`, status: 400, code: "invalid_argument"},
		{name: "wrong content type", method: "POST", path: sdk.PathPlayerConnected, contentType: "text/plain", body: `{"player_id":"p1"}`, status: 415, code: "unsupported_media_type"},
		{name: "too large", method: "POST", path: sdk.PathPlayerConnected, body: big, status: 413, code: "payload_too_large"},
		{name: "unknown route", method: "GET", path: "/v1/nope", status: 404, code: "not_found"},
		{name: "wrong method", method: "GET", path: sdk.PathReady, status: 405, code: "method_not_allowed"},
	})

	// A long-poll returns as soon as the server is allocated.
	type polled struct {
		ans     apiAnswer
		elapsed time.Duration
	}
	pollDone := make(chan polled, 1)
	go func() {
		start := time.Now()
		ans := c.do("GET", sdk.PathAllocation+"?wait=15s", "", nil, nil)
		pollDone <- polled{ans, time.Since(start)}
	}()
	m := testMatch("session-api", "p1", "p2")
	if _, err := f.Allocate(context.Background(), m); err != nil {
		t.Fatalf("allocate: %v", err)
	}
	p := <-pollDone
	var ar sdk.AllocationResponse
	if err := json.Unmarshal(p.ans.body, &ar); err != nil || p.ans.status != 200 || ar.State != sdk.StateAllocated || ar.Allocation == nil ||
		ar.Allocation.SessionID != m.SessionID || len(ar.Allocation.Players) != 2 || ar.Allocation.Connect.Issuer != testIssuer {
		t.Fatalf("long-poll answer %d %s (%v)", p.ans.status, p.ans.body, err)
	}
	if p.elapsed >= 15*time.Second {
		t.Fatalf("long-poll ran its full wait (%v) instead of returning on allocation", p.elapsed)
	}

	results := func(session string, players ...string) string {
		r := sdk.Results{SessionID: session, StartedAt: time.Unix(100, 0).UTC(), EndedAt: time.Unix(160, 0).UTC()}
		for i, p := range players {
			r.Players = append(r.Players, sdk.PlayerResult{PlayerID: p, Score: 10 - i, Placement: i + 1, TimePlayedS: 60})
		}
		b, _ := json.Marshal(r)
		return string(b)
	}
	c.check([]apiCase{
		{name: "stranger connects", method: "POST", path: sdk.PathPlayerConnected, body: `{"player_id":"p9"}`, status: 400, code: "invalid_argument"},
		{name: "player connects", method: "POST", path: sdk.PathPlayerConnected, body: `{"player_id":"p1"}`, status: 200},
		{name: "telemetry for another session", method: "POST", path: sdk.PathTelemetry, body: telemetry("b1", "other", "p1"), status: 400, code: "invalid_argument"},
		{name: "telemetry about a stranger", method: "POST", path: sdk.PathTelemetry, body: telemetry("b2", m.SessionID, "p9"), status: 400, code: "invalid_argument"},
		{name: "empty telemetry", method: "POST", path: sdk.PathTelemetry, body: `{"batch_id":"b3","session_id":"session-api","events":[]}`, status: 400, code: "invalid_argument"},
		{name: "telemetry", method: "POST", path: sdk.PathTelemetry, body: telemetry("b4", m.SessionID, "p1"), status: 200},
		{name: "results for another session", method: "POST", path: sdk.PathResults, body: results("other", "p1"), status: 400, code: "invalid_argument"},
		{name: "results for a stranger", method: "POST", path: sdk.PathResults, body: results(m.SessionID, "p1", "p9"), status: 400, code: "invalid_argument"},
		{name: "results twice for a player", method: "POST", path: sdk.PathResults, body: results(m.SessionID, "p1", "p1"), status: 400, code: "invalid_argument"},
		{name: "negative kills", method: "POST", path: sdk.PathResults, body: `{"session_id":"session-api","started_at":"2026-01-01T00:00:00Z","ended_at":"2026-01-01T00:00:01Z","players":[{"player_id":"p1","kills":-1}]}`, status: 400, code: "invalid_argument"},
		{name: "ends before it starts", method: "POST", path: sdk.PathResults, body: `{"session_id":"session-api","started_at":"2026-01-01T00:00:01Z","ended_at":"2026-01-01T00:00:00Z","players":[]}`, status: 400, code: "invalid_argument"},
		{name: "results", method: "POST", path: sdk.PathResults, body: results(m.SessionID, "p1", "p2"), status: 200},
		{name: "same results again", method: "POST", path: sdk.PathResults, body: results(m.SessionID, "p1", "p2"), status: 200},
		{name: "different results", method: "POST", path: sdk.PathResults, body: results(m.SessionID, "p2", "p1"), status: 409, code: "already_exists"},
		{name: "bad shutdown reason", method: "POST", path: sdk.PathShutdown, body: `{"reason":"` + strings.Repeat("r", sdk.MaxReasonLength+1) + `"}`, status: 400, code: "invalid_argument"},
		{name: "shutdown", method: "POST", path: sdk.PathShutdown, body: `{}`, status: 200},
	})
	select {
	case tm := <-stored:
		if tm.BatchID != "b4" || tm.SessionID != m.SessionID || tm.ServerID != srv.ID || tm.Mode != "duel" ||
			len(tm.Events) != 1 || tm.Events[0].PlayerID != "p1" || tm.Events[0].Kind != "anticheat.violation" {
			t.Errorf("stored telemetry %+v", tm)
		}
	default:
		t.Error("accepted telemetry never reached the sink")
	}
	if len(stored) != 0 {
		t.Errorf("%d rejected telemetry batches reached the sink", len(stored))
	}
	if ev := nextEvent(t, f, EventPlayerConnected, m.SessionID); ev.PlayerID != "p1" {
		t.Errorf("connected event %+v", ev)
	}
	ended := nextEvent(t, f, EventSessionEnded, m.SessionID)
	if r := ended.Results; r == nil || len(r.Players) != 2 || r.Players[0].PlayerID != "p1" || r.Players[0].Team != 1 || r.Players[1].Team != 2 || r.Mode != "duel" {
		t.Fatalf("ended results %+v", ended.Results)
	}
	// The frozen server lingers past StopGrace and is killed.
	waitFor(t, "the lingering server to be killed", func() bool {
		_, ok := serverInfo(f, srv.ID)
		return !ok && !processAlive(ProcessRef{PID: srv.PID})
	})
}

// setMaxMsgSize changes the largest message the fleet's KV stream takes
// (-1: no limit), so writes of records larger than n fail for real.
func (e *testEnv) setMaxMsgSize(t *testing.T, n int32) {
	t.Helper()
	ctx := context.Background()
	st, err := e.js.Stream(ctx, "KV_cell")
	if err != nil {
		t.Fatal(err)
	}
	cfg := st.CachedInfo().Config
	cfg.MaxMsgSize = n
	if _, err := e.js.UpdateStream(ctx, cfg); err != nil {
		t.Fatalf("limit KV message size: %v", err)
	}
}

// TestResultsNotStoredAnswer503: results the fleet cannot store are
// refused with 503 (which the SDK client retries) and not half-accepted;
// the retry once the store works is accepted, and the session ends with
// those results.
func TestResultsNotStoredAnswer503(t *testing.T) {
	env := newTestEnv(t)
	cfg := env.config(t)
	cfg.Max = 1
	// The server is frozen and the test speaks for it; the threshold keeps
	// the fleet from declaring it dead meanwhile.
	cfg.FailureThreshold = 1000
	f := startFleet(t, cfg)
	srv := waitReady(t, f, 1)[0]
	if err := syscall.Kill(srv.PID, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	c := callerFor(t, srv.PID)
	ctx := context.Background()
	m := testMatch("session-503", "p1", "p2")
	if _, err := f.Allocate(ctx, m); err != nil {
		t.Fatalf("allocate: %v", err)
	}
	// The record with results is larger than the allocated one: a limit
	// just above the latter makes storing results fail.
	entry, err := env.kv.Get(ctx, serverKey(srv.ID))
	if err != nil {
		t.Fatal(err)
	}
	env.setMaxMsgSize(t, int32(len(entry.Value())+len(serverKey(srv.ID))+16))
	r := sdk.Results{SessionID: m.SessionID, StartedAt: time.Unix(100, 0).UTC(), EndedAt: time.Unix(160, 0).UTC(),
		Players: []sdk.PlayerResult{{PlayerID: "p1", Score: 7, Placement: 1, TimePlayedS: 60}, {PlayerID: "p2", Score: 3, Placement: 2, TimePlayedS: 60}}}
	body, _ := json.Marshal(r)
	if got := c.do("POST", sdk.PathResults, "application/json", body, nil); got.status != http.StatusServiceUnavailable || got.code != "unavailable" {
		t.Fatalf("results while the store fails: %d %q %s", got.status, got.code, got.body)
	}
	// Refused means not kept: different results are not a conflict yet.
	other := r
	other.Players = []sdk.PlayerResult{{PlayerID: "p2", Score: 9, Placement: 1, TimePlayedS: 60}}
	otherBody, _ := json.Marshal(other)
	if got := c.do("POST", sdk.PathResults, "application/json", otherBody, nil); got.status != http.StatusServiceUnavailable {
		t.Fatalf("other results while the store fails: %d %s", got.status, got.body)
	}
	env.setMaxMsgSize(t, -1)
	if got := c.do("POST", sdk.PathResults, "application/json", body, nil); got.status != http.StatusOK {
		t.Fatalf("results retried: %d %s", got.status, got.body)
	}
	entry, err = env.kv.Get(ctx, serverKey(srv.ID))
	if err != nil {
		t.Fatal(err)
	}
	var rec record
	if err := json.Unmarshal(entry.Value(), &rec); err != nil || rec.Results == nil || len(rec.Results.Players) != 2 || rec.Results.Players[0].Score != 7 {
		t.Fatalf("stored record after the retry: %s (%v)", entry.Value(), err)
	}
	if got := c.do("POST", sdk.PathShutdown, "application/json", []byte(`{}`), nil); got.status != http.StatusOK {
		t.Fatalf("shutdown: %d %s", got.status, got.body)
	}
	ended := nextEvent(t, f, EventSessionEnded, m.SessionID)
	if ended.Results == nil || ended.Results.Players[0].Score != 7 {
		t.Fatalf("ended event %+v", ended)
	}
	if err := syscall.Kill(srv.PID, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
}
