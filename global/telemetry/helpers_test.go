package telemetry_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/atollgg/atoll/contract"
	"github.com/atollgg/atoll/global/telemetry"
	"github.com/atollgg/atoll/internal/db"
	"github.com/atollgg/atoll/internal/natstest"
	"github.com/atollgg/atoll/internal/obs"
	"github.com/google/uuid"
	"github.com/nats-io/nats.go/jetstream"
)

// testCell is the cell whose subject the test batches use.
const testCell = "c1"

// testTimeout bounds a test's waits on the stream and the database.
const testTimeout = 60 * time.Second

// streamRig is the core's CELL_EVENTS stream in an embedded NATS server.
type streamRig struct {
	js jetstream.JetStream
}

func newStream(t testing.TB) *streamRig {
	t.Helper()
	_, js := natstest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{
		Name: contract.CellEventsStream, Subjects: []string{"cell.>"}, Storage: jetstream.FileStorage,
	}); err != nil {
		t.Fatal(err)
	}
	return &streamRig{js: js}
}

// publish stores b on the stream under cell's telemetry subject with msgID.
func (r *streamRig) publish(t testing.TB, cell string, data []byte, msgID string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	if _, err := r.js.Publish(ctx, contract.CellSubject(cell, contract.KindTelemetry), data, jetstream.WithMsgID(msgID)); err != nil {
		t.Fatal(err)
	}
}

// batch returns a client batch of n events at ts, with fresh event ids.
func batch(sender, senderID string, n int, ts time.Time) contract.TelemetryBatch {
	b := contract.TelemetryBatch{CellID: testCell, Region: "eu", Sender: sender, SenderID: senderID,
		BatchID: uuid.NewString(), ReceivedAt: ts, Events: make([]contract.TelemetryEvent, n)}
	for i := range b.Events {
		b.Events[i] = contract.TelemetryEvent{EventID: uuid.NewString(), PlayerID: senderID, EventType: "ui.click",
			Payload: json.RawMessage(fmt.Sprintf(`{"n":%d}`, i)), Timestamp: ts}
	}
	return b
}

func encode(t testing.TB, v any) []byte {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex // guards following
	t  time.Time
}

func (c *clock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

// newSink returns a sink over d and r with a durable consumer of its own.
func newSink(t testing.TB, d *db.DB, r *streamRig, durable string, mutate func(*telemetry.Config)) *telemetry.Sink {
	t.Helper()
	cfg := telemetry.Config{DB: d, JS: r.js, Durable: durable, Log: obs.Discard()}
	if mutate != nil {
		mutate(&cfg)
	}
	s, err := telemetry.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// drain runs s's steps until the stream has nothing left for its consumer.
func drain(t testing.TB, s *telemetry.Sink) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	if err := s.Drain(ctx); err != nil {
		t.Fatal(err)
	}
}

func count(t testing.TB, d *db.DB, query string, args ...any) int {
	t.Helper()
	var n int
	if err := d.Pool.QueryRow(context.Background(), query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}
