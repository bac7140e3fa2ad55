package telemetry_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/atollgg/atoll/contract"
	"github.com/atollgg/atoll/global/schema"
	"github.com/atollgg/atoll/global/telemetry"
	"github.com/atollgg/atoll/internal/db"
	"github.com/atollgg/atoll/internal/dbtest"
	"github.com/nats-io/nats.go/jetstream"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

func openDB(t testing.TB) *db.DB {
	t.Helper()
	d := dbtest.Open(t)
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	if err := schema.Apply(ctx, d); err != nil {
		t.Fatal(err)
	}
	return d
}

// TestExactlyOnceUnderDuplicatedDelivery stores every batch twice on the
// stream (as a cell re-publishing after its dedupe window would), then
// replays the whole stream through a second consumer (a sink that crashed
// after committing and before acking): each event is in the log once.
func TestExactlyOnceUnderDuplicatedDelivery(t *testing.T) {
	d := openDB(t)
	r := newStream(t)
	now := time.Now().UTC()
	want := map[string]bool{}
	for i := range 30 {
		b := batch(contract.SenderClient, fmt.Sprintf("00000000-0000-4000-8000-%012d", i), 50, now.Add(-time.Duration(i)*time.Hour))
		for _, e := range b.Events {
			want[e.EventID] = true
		}
		data := encode(t, b)
		r.publish(t, testCell, data, b.BatchID)
		r.publish(t, testCell, data, b.BatchID+"-again")
	}
	first := newSink(t, d, r, "sink-a", func(c *telemetry.Config) { c.MaxTxEvents = 400 })
	drain(t, first)
	if n := count(t, d, `SELECT count(*) FROM telemetry_events`); n != len(want) {
		t.Fatalf("%d rows after the first pass, want %d", n, len(want))
	}
	replay := newSink(t, d, r, "sink-b", nil)
	drain(t, replay)
	if n := count(t, d, `SELECT count(*) FROM telemetry_events`); n != len(want) {
		t.Fatalf("%d rows after the replay, want %d", n, len(want))
	}
	if n := count(t, d, `SELECT count(DISTINCT event_id) FROM telemetry_events`); n != len(want) {
		t.Fatalf("%d distinct events, want %d", n, len(want))
	}
	// The rows are what was sent.
	var cell, sender, payload string
	if err := d.Pool.QueryRow(context.Background(), `SELECT cell_id, sender, payload::TEXT FROM telemetry_events WHERE payload->>'n' = '7' LIMIT 1`).Scan(&cell, &sender, &payload); err != nil {
		t.Fatal(err)
	}
	if cell != testCell || sender != contract.SenderClient || payload != `{"n": 7}` {
		t.Fatalf("row cell %q sender %q payload %q", cell, sender, payload)
	}
}

// TestPoisonIsDeadLetteredAndDoesNotBlock puts undecodable batches between
// good ones: the good ones are stored, the bad ones land in the dead-letter
// stream with their reason.
func TestPoisonIsDeadLetteredAndDoesNotBlock(t *testing.T) {
	d := openDB(t)
	r := newStream(t)
	now := time.Now().UTC()
	good1, good2 := batch(contract.SenderClient, "p1", 3, now), batch(contract.SenderClient, "p2", 4, now)
	noID := batch(contract.SenderClient, "p3", 1, now)
	noID.Events[0].EventID = "not-a-uuid"
	r.publish(t, testCell, encode(t, good1), "g1")
	r.publish(t, testCell, []byte(`{"events":[`), "bad-json")
	r.publish(t, testCell, encode(t, noID), "bad-id")
	r.publish(t, testCell, []byte(`{"sender":"martian","events":[]}`), "bad-sender")
	r.publish(t, testCell, encode(t, good2), "g2")
	s := newSink(t, d, r, "sink", nil)
	drain(t, s)
	if n := count(t, d, `SELECT count(*) FROM telemetry_events`); n != 7 {
		t.Fatalf("%d rows, want the good batches' 7", n)
	}
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	st, err := r.js.Stream(ctx, telemetry.DefaultDeadLetterStream)
	if err != nil {
		t.Fatal(err)
	}
	cons, err := st.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		msg, err := cons.Next(jetstream.FetchMaxWait(10 * time.Second))
		if err != nil {
			t.Fatalf("dead letter %d: %v", i, err)
		}
		if msg.Headers().Get(telemetry.HeaderReason) == "" || msg.Headers().Get(telemetry.HeaderSubject) != contract.CellSubject(testCell, contract.KindTelemetry) {
			t.Errorf("dead letter %d headers %v", i, msg.Headers())
		}
	}
	info, err := st.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.State.Msgs != 3 {
		t.Fatalf("%d dead letters, want 3", info.State.Msgs)
	}
}

// TestRetentionDropsOldPartitions stores events over several days, moves
// the clock past the retention of the oldest and checks exactly the
// expired days are gone.
func TestRetentionDropsOldPartitions(t *testing.T) {
	d := openDB(t)
	r := newStream(t)
	start := time.Now().UTC().Truncate(24 * time.Hour).Add(12 * time.Hour)
	clk := &clock{t: start}
	s := newSink(t, d, r, "sink", func(c *telemetry.Config) { c.Retention = 3 * 24 * time.Hour; c.Now = clk.Now })
	for day := range 3 {
		b := batch(contract.SenderClient, "p", 10, start.Add(-time.Duration(day)*24*time.Hour))
		r.publish(t, testCell, encode(t, b), b.BatchID)
	}
	drain(t, s)
	if n := count(t, d, `SELECT count(*) FROM telemetry_events`); n != 30 {
		t.Fatalf("%d rows, want 30", n)
	}
	// Four days later the retention cutoff is start+1d-3d = start-2d
	// (midday): the day of start-2d is partly younger, so it stays; only
	// whole expired days go.
	clk.Set(start.Add(1 * 24 * time.Hour))
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	dropped, err := s.ExpireBefore(ctx, clk.Now().Add(-3*24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if dropped != 0 {
		t.Fatalf("dropped %d partitions, want none yet", dropped)
	}
	clk.Set(start.Add(2 * 24 * time.Hour))
	if dropped, err = s.ExpireBefore(ctx, clk.Now().Add(-3*24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if dropped != 1 {
		t.Fatalf("dropped %d partitions, want the oldest day's", dropped)
	}
	if n := count(t, d, `SELECT count(*) FROM telemetry_events`); n != 20 {
		t.Fatalf("%d rows after retention, want 20", n)
	}
	if n := count(t, d, `SELECT count(*) FROM telemetry_events WHERE ts < $1`, start.Add(-36*time.Hour)); n != 0 {
		t.Fatalf("%d expired rows left", n)
	}
	// Events older than retention arriving late are not stored (and do not
	// recreate a dropped partition).
	late := batch(contract.SenderClient, "p", 5, start.Add(-3*24*time.Hour))
	r.publish(t, testCell, encode(t, late), late.BatchID)
	drain(t, s)
	if n := count(t, d, `SELECT count(*) FROM telemetry_events`); n != 20 {
		t.Fatalf("%d rows after a late batch, want 20", n)
	}
}

// TestConcurrentWorkersExactlyOnce runs the sink's Run with several workers
// over a stream where every batch is stored twice, so copies of one event
// race in concurrent transactions: each event is in the log once.
func TestConcurrentWorkersExactlyOnce(t *testing.T) {
	d := openDB(t)
	r := newStream(t)
	now := time.Now().UTC()
	want := 0
	for i := range 40 {
		b := batch(contract.SenderClient, fmt.Sprintf("00000000-0000-4000-8000-%012d", i), 100, now)
		want += len(b.Events)
		data := encode(t, b)
		r.publish(t, testCell, data, b.BatchID)
		r.publish(t, testCell, data, b.BatchID+"-again")
	}
	s := newSink(t, d, r, "workers", func(c *telemetry.Config) { c.Workers = 4; c.FetchMessages = 3 })
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- s.Run(runCtx) }() // owned by the test: ends with stop
	for {
		cons, err := r.js.Consumer(ctx, contract.CellEventsStream, "workers")
		if err == nil {
			if info, err := cons.Info(ctx); err == nil && info.NumPending == 0 && info.NumAckPending == 0 && info.AckFloor.Stream == 80 {
				break
			}
		}
		select {
		case <-ctx.Done():
			t.Fatal("the sink never acked every batch")
		case <-time.After(50 * time.Millisecond):
		}
	}
	stop()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if n := count(t, d, `SELECT count(*) FROM telemetry_events`); n != want {
		t.Fatalf("%d rows, want %d", n, want)
	}
}
