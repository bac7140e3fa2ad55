package telemetry

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/atollgg/atoll/contract"
)

// FuzzDecode feeds arbitrary bodies to the batch decoder as a player and as
// a game server: it must never panic, and whatever it accepts must respect
// the sender's limits and the contract's invariants.
func FuzzDecode(f *testing.F) {
	f.Add([]byte(`{"batch_id":"b1","events":[{"event_id":"e1","event_type":"ui.click","payload":{"a":1},"timestamp":"2026-01-02T03:04:05Z"}]}`))
	f.Add([]byte(`{"events":[{"event_type":"anticheat.violation","player_id":"p1","timestamp":"2026-01-02T03:04:05Z","payload":null}]}`))
	f.Add([]byte(`{"events":[]}`))
	f.Add([]byte(`{"events":[{"event_type":"a..b","timestamp":"9999-12-31T23:59:59Z","payload":[1,2]}]}`))
	f.Add([]byte(`not json`))
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	senders := []Sender{
		{Kind: contract.SenderClient, ID: "me"},
		{Kind: contract.SenderServer, ID: "srv", SessionID: "s", Mode: "duel", HasPlayer: func(p string) bool { return p == "p1" }},
	}
	f.Add([]byte(`{"events":[{"event_type":"a.b","payload":{"s":"x\\"y","n":[1,{"a":null}]},"timestamp":"2026-01-02T03:04:05+02:00"}], "batch_id" : "b"}`))
	f.Add([]byte(`{"events":[{"event_type":"a.b","payload":null,"timestamp":"2026-01-02T03:04:05Z","Event_Type":"x"}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		checkFastDecode(t, body)
		for _, s := range senders {
			lim := DefaultClientLimits()
			if s.Kind == contract.SenderServer {
				lim = DefaultServerLimits()
			}
			b, err := Decode(body, s, lim, now)
			if err != nil {
				continue
			}
			if len(b.Events) == 0 || len(b.Events) > lim.MaxEvents || b.BatchID == "" || b.SenderID != s.ID {
				t.Fatalf("accepted batch breaks its limits: %+v", b)
			}
			for _, e := range b.Events {
				switch {
				case !ValidEventType(e.EventType):
					t.Fatalf("accepted event type %q", e.EventType)
				case s.Kind == contract.SenderClient && (e.PlayerID != s.ID || ServerOnly(e.EventType)):
					t.Fatalf("client event %+v not forced to its sender or in a server namespace", e)
				case s.Kind == contract.SenderServer && (e.SessionID != s.SessionID || (e.PlayerID != "" && e.PlayerID != "p1")):
					t.Fatalf("server event %+v outside its match", e)
				case len(e.Payload) > lim.MaxPayloadBytes || (len(e.Payload) > 0 && e.Payload[0] != '{'):
					t.Fatalf("payload %q accepted", e.Payload)
				case e.Timestamp.After(now.Add(MaxClockSkew)) || e.Timestamp.Before(now.Add(-MaxEventAge)):
					t.Fatalf("timestamp %v accepted", e.Timestamp)
				case e.EventID == "":
					t.Fatal("event without id")
				}
			}
			checkEncoding(t, &b)
		}
	})
}

// checkEncoding checks appendBatch against encoding/json: the same bytes
// once payloads are compacted, and the same batch decoded back.
func checkEncoding(t *testing.T, b *contract.TelemetryBatch) {
	t.Helper()
	got := appendBatch(nil, b)
	want, err := json.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, got); err != nil {
		t.Fatalf("appendBatch wrote invalid JSON %q: %v", got, err)
	}
	if !bytes.Equal(compact.Bytes(), want) {
		t.Fatalf("appendBatch\n%s\nencoding/json\n%s", compact.Bytes(), want)
	}
	var back contract.TelemetryBatch
	if err := json.Unmarshal(got, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(mustRoundTrip(t, want), back) {
		t.Fatalf("round trip differs:\n%+v\n%+v", back, mustRoundTrip(t, want))
	}
}

func mustRoundTrip(t *testing.T, data []byte) contract.TelemetryBatch {
	var b contract.TelemetryBatch
	if err := json.Unmarshal(data, &b); err != nil {
		t.Fatal(err)
	}
	return b
}

// checkFastDecode checks decodeFast against encoding/json: whatever it
// accepts, json.Unmarshal accepts with the same result.
func checkFastDecode(t *testing.T, body []byte) {
	var fast, slow Request
	if !decodeFast(body, &fast) {
		return
	}
	if err := json.Unmarshal(body, &slow); err != nil {
		t.Fatalf("decodeFast accepted what encoding/json refuses (%v): %q", err, body)
	}
	if fast.BatchID != slow.BatchID || len(fast.Events) != len(slow.Events) {
		t.Fatalf("decodeFast %+v, encoding/json %+v", fast, slow)
	}
	for i := range fast.Events {
		a, b := fast.Events[i], slow.Events[i]
		_, ao := a.Timestamp.Zone()
		_, bo := b.Timestamp.Zone()
		if a.EventID != b.EventID || a.PlayerID != b.PlayerID || a.SessionID != b.SessionID || a.EventType != b.EventType ||
			!bytes.Equal(a.Payload, b.Payload) || !a.Timestamp.Equal(b.Timestamp) || ao != bo {
			t.Fatalf("event %d: decodeFast %+v, encoding/json %+v", i, a, b)
		}
	}
}
