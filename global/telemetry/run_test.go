package telemetry_test

import (
	"context"
	"testing"
	"time"

	"github.com/atollgg/atoll/contract"
	"github.com/atollgg/atoll/global/telemetry"
	"github.com/atollgg/atoll/internal/obs"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// TestRunConsumesFromTheHubDomain runs the core's entry point against a
// hub with JetStream domain "global" whose stream appears only after the
// sink started (the hub still starting): the sink waits for it, then
// stores what cells publish.
func TestRunConsumesFromTheHubDomain(t *testing.T) {
	d := openDB(t)
	srv, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: server.RANDOM_PORT, JetStream: true,
		JetStreamDomain: contract.GlobalDomain, StoreDir: t.TempDir(), NoLog: true, NoSigs: true})
	if err != nil {
		t.Fatal(err)
	}
	go srv.Start() // owned by srv; stopped in Cleanup
	t.Cleanup(func() { srv.Shutdown(); srv.WaitForShutdown() })
	if !srv.ReadyForConnections(testTimeout) {
		t.Fatal("hub not ready")
	}
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { // owned by the test: ends with stop
		done <- telemetry.Run(runCtx, telemetry.Settings{NATSURL: srv.ClientURL()}, d, nil, obs.Discard(), nil)
	}()

	nc, err := nats.Connect(srv.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.NewWithDomain(nc, contract.GlobalDomain)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: contract.CellEventsStream, Subjects: []string{"cell.>"}}); err != nil {
		t.Fatal(err)
	}
	b := batch(contract.SenderServer, "srv-1", 25, time.Now().UTC())
	if _, err := js.Publish(ctx, contract.CellSubject(testCell, contract.KindTelemetry), encode(t, b), jetstream.WithMsgID(b.BatchID)); err != nil {
		t.Fatal(err)
	}
	// The sink acks after its commit: once the consumer has nothing
	// pending, the rows are there.
	for {
		cons, err := js.Consumer(ctx, contract.CellEventsStream, telemetry.DefaultDurable)
		if err == nil {
			if info, err := cons.Info(ctx); err == nil && info.AckFloor.Stream >= 1 {
				break
			}
		}
		select {
		case <-ctx.Done():
			t.Fatal("the sink never acked the batch")
		case <-time.After(50 * time.Millisecond):
		}
	}
	if n := count(t, d, `SELECT count(*) FROM telemetry_events`); n != 25 {
		t.Fatalf("%d rows, want 25", n)
	}
	stop()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
