package telemetry

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/atollgg/atoll/cell/fleet"
	"github.com/atollgg/atoll/contract"
	"github.com/atollgg/atoll/gameserver/sdk"
	"github.com/atollgg/atoll/internal/ratelimit"
)

func TestClientRequests(t *testing.T) {
	g := newRig(t, nil)
	player := testPlayers[0]
	tok := g.token(t, player)
	now := time.Now().UTC()
	lim := DefaultClientLimits()
	big := `{"x":"` + strings.Repeat("a", lim.MaxPayloadBytes) + `"}`
	cases := []struct {
		name   string
		body   any
		header map[string]string
		status int
		code   string
	}{
		{"ok", Request{BatchID: "b-ok", Events: events(3, now)}, bearer(tok), http.StatusAccepted, ""},
		{"no token", Request{Events: events(1, now)}, nil, http.StatusUnauthorized, "unauthenticated"},
		{"bad token", Request{Events: events(1, now)}, bearer("not.a.token"), http.StatusUnauthorized, "unauthenticated"},
		{"no events", Request{}, bearer(tok), http.StatusBadRequest, "invalid_argument"},
		{"too many events", Request{Events: events(lim.MaxEvents+1, now)}, bearer(tok), http.StatusRequestEntityTooLarge, "payload_too_large"},
		{"unknown field", `{"events":[],"extra":1}`, bearer(tok), http.StatusBadRequest, "invalid_argument"},
		{"not json", `{"events":[`, bearer(tok), http.StatusBadRequest, "invalid_argument"},
		{"payload too large", Request{Events: []RequestEvent{{EventType: "a.b", Timestamp: now, Payload: json.RawMessage(big)}}}, bearer(tok), http.StatusRequestEntityTooLarge, "payload_too_large"},
		{"payload not an object", Request{Events: []RequestEvent{{EventType: "a.b", Timestamp: now, Payload: json.RawMessage(`[1]`)}}}, bearer(tok), http.StatusBadRequest, "invalid_argument"},
		{"bad event type", Request{Events: []RequestEvent{{EventType: "Click!", Timestamp: now}}}, bearer(tok), http.StatusBadRequest, "invalid_argument"},
		{"server-only event type", Request{Events: []RequestEvent{{EventType: contract.TelemetryViolation, Timestamp: now}}}, bearer(tok), http.StatusBadRequest, "invalid_argument"},
		{"no timestamp", Request{Events: []RequestEvent{{EventType: "a.b"}}}, bearer(tok), http.StatusBadRequest, "invalid_argument"},
		{"stale timestamp", Request{Events: events(1, now.Add(-MaxEventAge-time.Minute))}, bearer(tok), http.StatusBadRequest, "invalid_argument"},
		{"bad batch id", Request{BatchID: "has space", Events: events(1, now)}, bearer(tok), http.StatusBadRequest, "invalid_argument"},
		{"bad event id", Request{Events: []RequestEvent{{EventID: strings.Repeat("e", MaxIDLength+1), EventType: "a.b", Timestamp: now}}}, bearer(tok), http.StatusBadRequest, "invalid_argument"},
		{"server credential wrong", Request{Events: events(1, now)}, serverHeaders("wrong-secret-wrong-secret"), http.StatusUnauthorized, "unauthenticated"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var body []byte
			if s, ok := tc.body.(string); ok {
				body = []byte(s)
			} else {
				body = mustJSON(t, tc.body)
			}
			status, code, _, data := g.post(t, body, tc.header)
			if status != tc.status || code != tc.code {
				t.Fatalf("got %d %q (%s), want %d %q", status, code, data, tc.status, tc.code)
			}
		})
	}
	// Only the accepted batch reached the stream.
	stored := g.stored(t)
	if len(stored) != 1 || stored[0].BatchID != "b-ok" || len(stored[0].Events) != 3 {
		t.Fatalf("stored %+v, want the one accepted batch", stored)
	}
}

func TestBodyLargerThanLimitIs413(t *testing.T) {
	g := newRig(t, nil)
	tok := g.token(t, testPlayers[0])
	body := `{"events":[],"pad":"` + strings.Repeat("p", int(DefaultClientLimits().MaxBatchBytes)) + `"}`
	status, code, _, _ := g.post(t, []byte(body), bearer(tok))
	if status != http.StatusRequestEntityTooLarge || code != "payload_too_large" {
		t.Fatalf("got %d %q, want 413 payload_too_large", status, code)
	}
}

func TestClientCannotSpeakForOthers(t *testing.T) {
	g := newRig(t, nil)
	me, other := testPlayers[0], testPlayers[1]
	now := time.Now().UTC()
	future := now.Add(MaxClockSkew + time.Hour)
	body := mustJSON(t, Request{BatchID: "b1", Events: []RequestEvent{
		{EventID: "x", PlayerID: other, EventType: "match.ready", Timestamp: future},
		{EventID: "y", EventType: "match.ready", Timestamp: now.Add(-time.Hour)},
	}})
	if status, code, _, data := g.post(t, body, bearer(g.token(t, me))); status != http.StatusAccepted {
		t.Fatalf("got %d %s %s", status, code, data)
	}
	stored := g.stored(t)
	if len(stored) != 1 {
		t.Fatalf("%d batches stored, want 1", len(stored))
	}
	b := stored[0]
	if b.Sender != contract.SenderClient || b.SenderID != me || b.CellID != testCell {
		t.Errorf("batch sender %s/%s cell %s, want client/%s %s", b.Sender, b.SenderID, b.CellID, me, testCell)
	}
	for _, e := range b.Events {
		if e.PlayerID != me {
			t.Errorf("event %s is about %s, want the token's subject %s", e.EventID, e.PlayerID, me)
		}
	}
	if got := b.Events[0].Timestamp; got.After(b.ReceivedAt) {
		t.Errorf("future timestamp %v not clamped to the receive time %v", got, b.ReceivedAt)
	}
	if got, want := b.Events[1].Timestamp, now.Add(-time.Hour).Truncate(time.Microsecond); !got.Truncate(time.Microsecond).Equal(want) {
		t.Errorf("past timestamp %v changed, want %v", got, want)
	}
	// Another player's event ids derive differently: no collisions.
	if b.Events[0].EventID != EventID(contract.SenderClient, me, "x") || b.Events[0].EventID == EventID(contract.SenderClient, other, "x") {
		t.Errorf("event id %s not scoped by sender", b.Events[0].EventID)
	}
}

func TestServerRequests(t *testing.T) {
	g := newRig(t, nil)
	now := time.Now().UTC()
	inMatch, outsider := testPlayers[1], "33333333-3333-4333-8333-333333333333"
	cases := []struct {
		name   string
		events []RequestEvent
		status int
	}{
		{"violation of a match player", []RequestEvent{{EventType: contract.TelemetryViolation, PlayerID: inMatch, SessionID: "forged", Timestamp: now, Payload: json.RawMessage(`{"violation":"speed"}`)}}, http.StatusAccepted},
		{"event without player", []RequestEvent{{EventType: "server.tick_overrun", Timestamp: now}}, http.StatusAccepted},
		{"player outside the match", []RequestEvent{{EventType: contract.TelemetryKick, PlayerID: outsider, Timestamp: now}}, http.StatusBadRequest},
	}
	accepted := 0
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			body := mustJSON(t, Request{BatchID: fmt.Sprintf("s%d", i), Events: tc.events})
			status, code, _, data := g.post(t, body, serverHeaders(testSecret))
			if status != tc.status {
				t.Fatalf("got %d %s %s, want %d", status, code, data, tc.status)
			}
			if status == http.StatusAccepted {
				accepted++
			}
		})
	}
	// A server may send more than a client's limit.
	many := events(DefaultClientLimits().MaxEvents*2, now)
	if status, _, _, data := g.post(t, mustJSON(t, Request{BatchID: "many", Events: many}), serverHeaders(testSecret)); status != http.StatusAccepted {
		t.Fatalf("server batch above the client limit: %d %s", status, data)
	}
	accepted++
	stored := g.stored(t)
	if len(stored) != accepted {
		t.Fatalf("%d batches stored, want %d", len(stored), accepted)
	}
	for _, b := range stored {
		if b.Sender != contract.SenderServer || b.SenderID != testServer || b.GameMode != "duel" {
			t.Errorf("batch %s from %s/%s mode %s", b.BatchID, b.Sender, b.SenderID, b.GameMode)
		}
		for _, e := range b.Events {
			if e.SessionID != testSession {
				t.Errorf("event session %q, want the allocation's %q", e.SessionID, testSession)
			}
		}
	}
}

func TestRateLimitedWithRetryAfter(t *testing.T) {
	g := newRig(t, func(c *Config) {
		c.Client = DefaultClientLimits()
		c.Client.Rate = ratelimit.Rate{Events: 1, Per: time.Hour, Burst: 2}
	})
	tok := g.token(t, testPlayers[0])
	now := time.Now()
	for i, want := range []int{http.StatusAccepted, http.StatusAccepted, http.StatusTooManyRequests} {
		status, code, resp, _ := g.post(t, mustJSON(t, Request{Events: events(1, now)}), bearer(tok))
		if status != want {
			t.Fatalf("request %d: got %d %s, want %d", i, status, code, want)
		}
		if status == http.StatusTooManyRequests && (code != "rate_limited" || resp.Header.Get("Retry-After") == "") {
			t.Fatalf("429 with code %q and Retry-After %q", code, resp.Header.Get("Retry-After"))
		}
	}
	// Another player has a bucket of their own.
	if status, _, _, _ := g.post(t, mustJSON(t, Request{Events: events(1, now)}), bearer(g.token(t, testPlayers[1]))); status != http.StatusAccepted {
		t.Fatalf("second player got %d", status)
	}
}

func TestRetriedBatchStoredOnce(t *testing.T) {
	g := newRig(t, nil)
	tok := g.token(t, testPlayers[0])
	body := mustJSON(t, Request{BatchID: "retry-me", Events: events(5, time.Now())})
	var res [2]Result
	for i := range res {
		status, _, _, data := g.post(t, body, bearer(tok))
		if status != http.StatusAccepted {
			t.Fatalf("attempt %d: %d %s", i, status, data)
		}
		if err := json.Unmarshal(data, &res[i]); err != nil {
			t.Fatal(err)
		}
	}
	if res[0].Duplicate || !res[1].Duplicate {
		t.Errorf("duplicate flags %v %v, want false then true", res[0].Duplicate, res[1].Duplicate)
	}
	if n := len(g.stored(t)); n != 1 {
		t.Fatalf("%d messages stored, want 1", n)
	}
}

// TestFloodKeepsEveryAcceptedEvent floods the ingest from many players at
// once, past both the per-player rate and the in-flight cap: the floods are
// refused (429, 503), and every event answered 202 is on the stream exactly
// once, with nothing refused stored.
func TestFloodKeepsEveryAcceptedEvent(t *testing.T) {
	g := newRig(t, func(c *Config) {
		c.Client = DefaultClientLimits()
		c.Client.Rate = ratelimit.Rate{Events: 1, Per: time.Hour, Burst: 5}
		c.MaxInFlight = 2
	})
	const players, perPlayer = 16, 12
	now := time.Now()
	var mu sync.Mutex // guards following
	accepted := map[string]bool{}
	refused := map[string]bool{}
	statuses := map[int]int{}
	var wg sync.WaitGroup
	for p := range players {
		player := fmt.Sprintf("%08d-0000-4000-8000-000000000000", p)
		tok := g.token(t, player)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perPlayer {
				batch := fmt.Sprintf("p%d-b%d", p, i)
				evs := events(10, now)
				for j := range evs {
					evs[j].EventID = batch + "-" + evs[j].EventID
				}
				status, _, _, data := g.post(t, mustJSON(t, Request{BatchID: batch, Events: evs}), bearer(tok))
				mu.Lock()
				statuses[status]++
				key := player + "/" + batch
				if status == http.StatusAccepted {
					var r Result
					if err := json.Unmarshal(data, &r); err != nil || r.Accepted != 10 {
						t.Errorf("202 body %s", data)
					}
					accepted[key] = true
				} else {
					refused[key] = true
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if statuses[http.StatusTooManyRequests] == 0 {
		t.Errorf("statuses %v: the flood was never rate limited", statuses)
	}
	for s := range statuses {
		if s != http.StatusAccepted && s != http.StatusTooManyRequests && s != http.StatusServiceUnavailable {
			t.Errorf("unexpected status %d (statuses %v)", s, statuses)
		}
	}
	seenEvents := map[string]int{}
	seenBatches := map[string]int{}
	for _, b := range g.stored(t) {
		seenBatches[b.SenderID+"/"+b.BatchID]++
		for _, e := range b.Events {
			seenEvents[e.EventID]++
		}
	}
	for key := range accepted {
		if seenBatches[key] != 1 {
			t.Errorf("accepted batch %s stored %d times", key, seenBatches[key])
		}
		player, batch, _ := strings.Cut(key, "/")
		for i := range 10 {
			if n := seenEvents[EventID(contract.SenderClient, player, fmt.Sprintf("%s-e%d", batch, i))]; n != 1 {
				t.Errorf("accepted event %s/e%d stored %d times, want once", key, i, n)
			}
		}
	}
	for key := range refused {
		if seenBatches[key] != 0 {
			t.Errorf("refused batch %s was stored", key)
		}
	}
	if len(seenBatches) != len(accepted) {
		t.Errorf("%d batches stored, %d accepted", len(seenBatches), len(accepted))
	}
	t.Logf("statuses %v, %d batches stored", statuses, len(seenBatches))
}

func TestEncodingMatchesEncodingJSON(t *testing.T) {
	now := time.Date(2026, 12, 6, 3, 4, 5, 123456789, time.UTC)
	for _, s := range []string{"plain", "", "quote\" back\\slash", "ctl\x01\n\t\r\b\f", "<html>&amp;", "bad\xffutf8", "sep\u2028\u2029", "ünïcødé 🎮"} {
		b := contract.TelemetryBatch{CellID: "c", Region: s, Sender: contract.SenderClient, SenderID: s, BatchID: "b", ReceivedAt: now,
			Events: []contract.TelemetryEvent{{EventID: "e", PlayerID: s, SessionID: s, EventType: "a.b", Payload: json.RawMessage(`{"k":"v"}`), Timestamp: now}, {EventID: "f", EventType: "c"}}}
		checkEncoding(t, &b)
	}
}

// TestFleetSinkSpeaksTheContract publishes an SDK-port batch the way the
// fleet hands it over: the same contract, once per batch id.
func TestFleetSinkSpeaksTheContract(t *testing.T) {
	g := newRig(t, nil)
	sink := g.ingest.FleetSink()
	now := time.Now().UTC()
	tm := fleet.Telemetry{BatchID: "sdk-1", SessionID: testSession, ServerID: testServer, Mode: "duel", Events: []sdk.TelemetryEvent{
		{Kind: contract.TelemetryViolation, PlayerID: testPlayers[0], At: now, Data: json.RawMessage(`{"violation":"speed"}`)},
		{Kind: contract.TelemetryKick, PlayerID: testPlayers[0], At: now.Add(time.Hour)},
	}}
	for range 2 { // a re-sent batch is stored once
		if err := sink(context.Background(), tm); err != nil {
			t.Fatal(err)
		}
	}
	stored := g.stored(t)
	if len(stored) != 1 {
		t.Fatalf("%d batches stored, want 1", len(stored))
	}
	b := stored[0]
	if b.Sender != contract.SenderServer || b.SenderID != testServer || b.GameMode != "duel" || len(b.Events) != 2 {
		t.Fatalf("stored %+v", b)
	}
	e := b.Events[0]
	if e.EventType != contract.TelemetryViolation || e.PlayerID != testPlayers[0] || e.SessionID != testSession || string(e.Payload) != `{"violation":"speed"}` {
		t.Errorf("event %+v", e)
	}
	if b.Events[1].Timestamp.After(b.ReceivedAt) {
		t.Errorf("future timestamp %v not clamped", b.Events[1].Timestamp)
	}
}

// TestFastDecodeTakesTheCommonShape checks that what clients send (the
// encoding of a Request) goes through decodeFast, with encoding/json's
// result, and that other spellings fall back.
func TestFastDecodeTakesTheCommonShape(t *testing.T) {
	body := mustJSON(t, Request{BatchID: "b", Events: append(events(3, time.Now()), RequestEvent{EventType: "x.y", Timestamp: time.Now().In(time.FixedZone("x", 3600))})})
	var req Request
	if !decodeFast(body, &req) || len(req.Events) != 4 {
		t.Fatalf("decodeFast refused %s", body)
	}
	checkFastDecode(t, body)
	for _, other := range []string{
		`{"Events":[]}`, `{"events":[{"event_type":"a\u002eb","timestamp":"2026-01-02T03:04:05Z"}]}`,
		`{"events":null}`, `{"events":[],"events":[]}`, `{"events":[]} x`,
	} {
		var r Request
		if decodeFast([]byte(other), &r) {
			t.Errorf("decodeFast took %s", other)
		}
	}
}
