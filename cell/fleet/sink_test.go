package fleet

import (
	"context"
	"encoding/json"
	"syscall"
	"testing"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
)

// TestTerminalEventKeptUntilStored: while the event sink (a JetStream
// stream, as in the cell) fails, a session's end is retried and its server's
// record keeps the undelivered outcome, so a restart could re-emit it; once
// the sink works the end is stored once and the record goes.
func TestTerminalEventKeptUntilStored(t *testing.T) {
	env := newTestEnv(t)
	ctx := context.Background()
	streamCfg := jetstream.StreamConfig{Name: "EVENTS", Subjects: []string{"events.>"}, Storage: jetstream.MemoryStorage}
	stream, err := env.js.CreateStream(ctx, streamCfg)
	if err != nil {
		t.Fatal(err)
	}
	cfg := env.config(t)
	reg := prometheus.NewRegistry()
	cfg.Registry = reg
	cfg.Events = func(ctx context.Context, ev Event) error {
		data, err := json.Marshal(ev)
		if err != nil {
			return err
		}
		_, err = env.js.Publish(ctx, "events."+string(ev.Kind), data,
			jetstream.WithMsgID(ev.SessionID+"."+string(ev.Kind)), jetstream.WithExpectStream("EVENTS"))
		return err
	}
	f := startFleet(t, cfg)
	waitReady(t, f, 1)
	m := testMatch("session-sink", "alice", "bob")
	a, err := f.Allocate(ctx, m)
	if err != nil {
		t.Fatalf("allocate: %v", err)
	}
	if err := env.js.DeleteStream(ctx, "EVENTS"); err != nil {
		t.Fatal(err)
	}
	info, _ := serverInfo(f, a.ServerID)
	if err := syscall.Kill(info.PID, syscall.SIGKILL); err != nil {
		t.Fatalf("kill game server: %v", err)
	}
	waitFor(t, "the failed sink retried", func() bool {
		return metricValue(t, reg, "atoll_fleet_event_store_failures_total", nil) >= 2
	})
	// The record keeps the outcome, not yet delivered.
	waitFor(t, "the undelivered outcome recorded", func() bool {
		e, err := env.kv.Get(ctx, serverKey(a.ServerID))
		if err != nil {
			t.Fatalf("record of the server whose end is not stored: %v", err)
		}
		var rec record
		if err := json.Unmarshal(e.Value(), &rec); err != nil {
			t.Fatal(err)
		}
		if rec.OutcomeSent {
			t.Fatalf("outcome marked sent while the sink fails: %s", e.Value())
		}
		return rec.Outcome != nil && rec.Outcome.Kind == EventSessionFailed
	})

	if stream, err = env.js.CreateStream(ctx, streamCfg); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the end stored and the server forgotten", func() bool {
		_, err := env.kv.Get(ctx, serverKey(a.ServerID))
		return err != nil
	})
	msg, err := stream.GetLastMsgForSubject(ctx, "events."+string(EventSessionFailed))
	if err != nil {
		t.Fatal(err)
	}
	var ev Event
	if err := json.Unmarshal(msg.Data, &ev); err != nil || ev.SessionID != m.SessionID || ev.ServerID != a.ServerID {
		t.Fatalf("stored end %s (%v)", msg.Data, err)
	}
	si, err := stream.Info(ctx, jetstream.WithSubjectFilter("events."+string(EventSessionFailed)))
	if err != nil || si.State.Subjects["events."+string(EventSessionFailed)] != 1 {
		t.Fatalf("stored ends: %+v (%v), want 1", si.State.Subjects, err)
	}
}
