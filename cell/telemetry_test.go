package cell_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/atollgg/atoll/cell"
	"github.com/atollgg/atoll/cell/telemetry"
	"github.com/atollgg/atoll/contract"
	"github.com/atollgg/atoll/global/globaltest"
	"github.com/nats-io/nats.go/jetstream"
)

// TestTelemetryThroughTheCell posts a player's batch to a running cell
// with a token of the real core: 202, and the batch is on the cell's
// stream in the contract, about the token's subject whatever it claimed.
func TestTelemetryThroughTheCell(t *testing.T) {
	core := globaltest.Start(t)
	a, b := core.Guest(t), core.Guest(t)
	c := startCell(t, cellConfig(t, core, issuerOf(t, a.Access), gameServer(t)))
	cl := newClient(c.URL())
	now := time.Now().UTC()
	body := telemetry.Request{BatchID: "batch-1", Events: []telemetry.RequestEvent{
		{EventID: "e1", PlayerID: b.ID, EventType: "menu.open", Timestamp: now, Payload: json.RawMessage(`{"screen":"store"}`)},
	}}
	if r := cl.do(t, "POST", telemetry.Path, a.Access, body); r.status != 202 {
		t.Fatalf("post telemetry: %d %s", r.status, r.body)
	}
	if r := cl.do(t, "POST", telemetry.Path, "", body); r.status != 401 || r.code() != "unauthenticated" {
		t.Fatalf("without a token: %d %s", r.status, r.body)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cons, err := c.Bus.Stream().OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{FilterSubjects: []string{c.Bus.Subject(cell.KindTelemetry)}})
	if err != nil {
		t.Fatal(err)
	}
	msg, err := cons.Next(jetstream.FetchMaxWait(10 * time.Second))
	if err != nil {
		t.Fatal(err)
	}
	var got contract.TelemetryBatch
	if err := json.Unmarshal(msg.Data(), &got); err != nil {
		t.Fatal(err)
	}
	if got.Sender != contract.SenderClient || got.SenderID != a.ID || got.BatchID != "batch-1" || len(got.Events) != 1 || got.Events[0].PlayerID != a.ID {
		t.Fatalf("stored %+v", got)
	}
}
