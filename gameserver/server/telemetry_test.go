package server

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/atollgg/atoll/gameserver/sdk"
	"github.com/atollgg/atoll/internal/obs"
)

func TestRoomTelemetryQueuesValidEventsOfTheMatch(t *testing.T) {
	room := newRoom(Match{SessionID: "s", Players: []sdk.Player{{ID: "p1"}, {ID: "p2"}}}, obs.Discard(), nil)
	now := time.Now()
	room.Telemetry(
		sdk.TelemetryEvent{Kind: "anticheat.violation", PlayerID: "p1", At: now, Data: json.RawMessage(`{"violation":"speed"}`)},
		sdk.TelemetryEvent{Kind: "anticheat.violation", PlayerID: "stranger", At: now},
		sdk.TelemetryEvent{Kind: "Bad Kind", PlayerID: "p2", At: now},
		sdk.TelemetryEvent{Kind: "match.note", At: now},
	)
	got := room.telemetry.take()
	if len(got) != 2 || got[0].PlayerID != "p1" || got[1].Kind != "match.note" {
		t.Fatalf("queued %+v, want the p1 violation and the note", got)
	}
	if more := room.telemetry.take(); more != nil {
		t.Fatalf("queue not emptied: %+v", more)
	}

	// A full queue drops and counts; batches come out at most
	// sdk.MaxTelemetryEvents at a time, oldest first.
	burst := make([]sdk.TelemetryEvent, telemetryQueueSize+10)
	for i := range burst {
		burst[i] = sdk.TelemetryEvent{Kind: "k", At: now.Add(time.Duration(i))}
	}
	room.Telemetry(burst...)
	if d := room.telemetry.droppedCount(); d != 10 {
		t.Errorf("dropped %d, want 10", d)
	}
	first := room.telemetry.take()
	if len(first) != sdk.MaxTelemetryEvents || !first[0].At.Equal(now) {
		t.Errorf("first batch: %d events from %v", len(first), first[0].At)
	}
	select {
	case <-room.telemetry.wake:
	default:
		t.Error("a full batch did not wake the sender")
	}
}
