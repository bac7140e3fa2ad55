package sessions_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/atollgg/atoll/cell/fleet"
	"github.com/atollgg/atoll/cell/sessions"
	"github.com/atollgg/atoll/internal/natstest"
	"github.com/nats-io/nats.go/jetstream"
)

func TestEventLog(t *testing.T) {
	_, js := natstest.Start(t)
	ctx := context.Background()
	log, err := sessions.OpenEventLog(ctx, js, "eu-1")
	if err != nil {
		t.Fatal(err)
	}
	// Opening again (the next start) keeps the stream.
	if log, err = sessions.OpenEventLog(ctx, js, "eu-1"); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	// Session ids are visible ASCII and may hold subject syntax.
	const odd = "s.1*>"
	events := []fleet.Event{
		{Kind: fleet.EventSessionActive, SessionID: "s1", At: at},
		{Kind: fleet.EventPlayerConnected, SessionID: "s1", PlayerID: "a", At: at},
		{Kind: fleet.EventPlayerConnected, SessionID: "s1", PlayerID: "a", At: at.Add(time.Second)},
		{Kind: fleet.EventSessionEnded, SessionID: "s1", Results: &fleet.Results{SessionID: "s1", Mode: "duel"}, At: at},
		// The fleet re-emits a terminal event after a restart: stored once.
		{Kind: fleet.EventSessionEnded, SessionID: "s1", Results: &fleet.Results{SessionID: "s1", Mode: "duel"}, At: at},
		{Kind: fleet.EventSessionActive, SessionID: "s1", At: at.Add(time.Minute)},
		{Kind: fleet.EventSessionFailed, SessionID: odd, Reason: "crashed", At: at},
	}
	for _, ev := range events {
		if err := log.Publish(ctx, ev); err != nil {
			t.Fatal(err)
		}
	}
	info, err := log.Stream().Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.State.Msgs != 5 {
		t.Fatalf("%d events stored, want 5 (repeated terminal and start stored once)", info.State.Msgs)
	}
	if info.Config.Retention != jetstream.LimitsPolicy || info.Config.Duplicates != sessions.EventDuplicateWindow {
		t.Fatalf("stream config %+v", info.Config)
	}
	cases := []struct {
		session string
		found   bool
		kind    fleet.EventKind
	}{
		{"s1", true, fleet.EventSessionEnded},
		{odd, true, fleet.EventSessionFailed},
		{"s.1", false, ""},
		{"unknown", false, ""},
	}
	for _, tc := range cases {
		ev, ok, err := log.Terminal(ctx, tc.session)
		if err != nil || ok != tc.found || ev.Kind != tc.kind || (ok && ev.SessionID != tc.session) {
			t.Errorf("Terminal(%q) = %+v %v %v, want found=%v kind %q", tc.session, ev, ok, err, tc.found, tc.kind)
		}
	}

	cons, err := log.Consumer(ctx, "test", time.Minute, 16)
	if err != nil {
		t.Fatal(err)
	}
	batch, err := cons.FetchNoWait(10)
	if err != nil {
		t.Fatal(err)
	}
	var kinds []fleet.EventKind
	for msg := range batch.Messages() {
		ev, err := sessions.DecodeEvent(msg.Data())
		if err != nil {
			t.Fatal(err)
		}
		kinds = append(kinds, ev.Kind)
	}
	want := []fleet.EventKind{fleet.EventSessionActive, fleet.EventPlayerConnected, fleet.EventPlayerConnected, fleet.EventSessionEnded, fleet.EventSessionFailed}
	if len(kinds) != len(want) {
		t.Fatalf("consumed %v, want %v", kinds, want)
	}
	for i := range want {
		if kinds[i] != want[i] {
			t.Fatalf("consumed %v, want %v (in order)", kinds, want)
		}
	}
}

func TestDecodeEventRejects(t *testing.T) {
	for _, data := range []string{``, `{`, `[]`, `{"kind":"session_ended"}`, `{"session_id":"s1"}`, `{"kind":1,"session_id":"s1"}`} {
		if _, err := sessions.DecodeEvent([]byte(data)); !errors.Is(err, sessions.ErrBadEvent) {
			t.Errorf("DecodeEvent(%q) = %v, want ErrBadEvent", data, err)
		}
	}
}

func FuzzDecodeEvent(f *testing.F) {
	f.Add([]byte(`{"kind":"session_ended","session_id":"s1","server_id":"x","results":{"session_id":"s1","players":[{"player_id":"a"}]},"at":"2026-01-01T00:00:00Z"}`))
	f.Add([]byte(`{"kind":"player_connected","session_id":"s1","player_id":"a"}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, data []byte) {
		ev, err := sessions.DecodeEvent(data)
		if err != nil {
			if !errors.Is(err, sessions.ErrBadEvent) {
				t.Fatalf("error %v does not wrap ErrBadEvent", err)
			}
			return
		}
		if ev.SessionID == "" || ev.Kind == "" {
			t.Fatalf("accepted an event without session or kind: %+v", ev)
		}
	})
}
