package cell

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/atollgg/atoll/cell/bus"
	"github.com/atollgg/atoll/cell/fleet"
	"github.com/atollgg/atoll/gameserver/sdk"
)

// KindTelemetry is the event kind of game servers' telemetry on the cell's
// stream: subject cell.<id>.telemetry, one message per batch a server sent.
const KindTelemetry = "telemetry"

// TelemetryMessage is the body of a telemetry event: a batch of one game
// server's events (anti-cheat violations and kicks for the reference
// game), checked by the fleet against the server's allocation.
type TelemetryMessage struct {
	CellID    string               `json:"cell_id"`
	Region    string               `json:"region"`
	SessionID string               `json:"session_id"`
	ServerID  string               `json:"server_id"`
	GameMode  string               `json:"game_mode"`
	Events    []sdk.TelemetryEvent `json:"events"`
}

// telemetryMsgID is a batch's Nats-Msg-Id: a batch the server re-sent after
// a lost answer is stored once.
func telemetryMsgID(serverID, batchID string) string {
	return KindTelemetry + ":" + serverID + ":" + batchID
}

// telemetrySink publishes the fleet's telemetry batches on the cell's
// stream.
func telemetrySink(b *bus.Bus, cellID, region string) fleet.TelemetrySink {
	return func(ctx context.Context, t fleet.Telemetry) error {
		data, err := json.Marshal(TelemetryMessage{
			CellID: cellID, Region: region, SessionID: t.SessionID, ServerID: t.ServerID, GameMode: t.Mode, Events: t.Events,
		})
		if err != nil {
			return fmt.Errorf("encode telemetry: %w", err)
		}
		if _, err := b.Publish(ctx, KindTelemetry, data, telemetryMsgID(t.ServerID, t.BatchID)); err != nil {
			return fmt.Errorf("publish telemetry: %w", err)
		}
		return nil
	}
}
