package stacktest

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/atollgg/atoll/cell"
	"github.com/atollgg/atoll/contract"
	"github.com/nats-io/nats.go/jetstream"
)

// maxTelemetryMessages bounds one read of the cell's telemetry: a test
// match sends a few dozen batches.
const maxTelemetryMessages = 1000

// TelemetryMessage is one batch of a game server's telemetry as the cell
// publishes it.
type TelemetryMessage = contract.TelemetryBatch

// Telemetry reads the telemetry the stack's cell has published so far, so
// tests under gameserver/ check it without importing the cell.
func (s *Stack) Telemetry(ctx context.Context, t testing.TB) []TelemetryMessage {
	t.Helper()
	cons, err := s.Cell.Bus.Stream().OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{s.Cell.Bus.Subject(cell.KindTelemetry)},
	})
	if err != nil {
		t.Fatal(err)
	}
	batch, err := cons.FetchNoWait(maxTelemetryMessages)
	if err != nil {
		t.Fatal(err)
	}
	var out []TelemetryMessage
	for msg := range batch.Messages() {
		var m TelemetryMessage
		if err := json.Unmarshal(msg.Data(), &m); err != nil {
			t.Fatalf("telemetry message %s: %v", msg.Data(), err)
		}
		out = append(out, m)
	}
	return out
}
