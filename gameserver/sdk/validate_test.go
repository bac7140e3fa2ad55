package sdk

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"
)

func TestValidateID(t *testing.T) {
	for _, tc := range []struct {
		id string
		ok bool
	}{
		{"a", true},
		{"5f0c2e3a-1b2c-4d5e-8f90-0123456789ab", true},
		{strings.Repeat("x", MaxIDLength), true},
		{"", false},
		{strings.Repeat("x", MaxIDLength+1), false},
		{"has space", false},
		{"tab\t", false},
		{"é", false},
		{"nul\x00", false},
	} {
		if err := ValidateID(tc.id); (err == nil) != tc.ok {
			t.Errorf("ValidateID(%q) = %v, want ok=%v", tc.id, err, tc.ok)
		}
	}
}

func TestResultsValidate(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	good := func() Results {
		return Results{SessionID: "s", StartedAt: t0, EndedAt: t0.Add(time.Minute), Players: []PlayerResult{
			{PlayerID: "a", Score: 3, Kills: 2, Deaths: 1, Placement: 1, TimePlayedS: 60},
			{PlayerID: "b", Score: -2, Placement: 2},
		}}
	}
	tests := []struct {
		name   string
		mutate func(*Results)
		ok     bool
	}{
		{"good", func(*Results) {}, true},
		{"no players", func(r *Results) { r.Players = nil }, true},
		{"no session", func(r *Results) { r.SessionID = "" }, false},
		{"no start", func(r *Results) { r.StartedAt = time.Time{} }, false},
		{"ends first", func(r *Results) { r.EndedAt = t0.Add(-time.Second) }, false},
		{"duplicate player", func(r *Results) { r.Players[1].PlayerID = "a" }, false},
		{"bad player id", func(r *Results) { r.Players[0].PlayerID = "" }, false},
		{"huge score", func(r *Results) { r.Players[0].Score = MaxStat + 1 }, false},
		{"negative kills", func(r *Results) { r.Players[0].Kills = -1 }, false},
		{"negative deaths", func(r *Results) { r.Players[0].Deaths = -1 }, false},
		{"bad placement", func(r *Results) { r.Players[0].Placement = MaxPlayers + 1 }, false},
		{"NaN time", func(r *Results) { r.Players[0].TimePlayedS = math.NaN() }, false},
		{"negative time", func(r *Results) { r.Players[0].TimePlayedS = -1 }, false},
		{"too many players", func(r *Results) {
			r.Players = make([]PlayerResult, MaxPlayers+1)
			for i := range r.Players {
				r.Players[i].PlayerID = strings.Repeat("p", 1+i%100) + string(rune('a'+i/100))
			}
		}, false},
	}
	for _, tc := range tests {
		r := good()
		tc.mutate(&r)
		if err := r.Validate(); (err == nil) != tc.ok {
			t.Errorf("%s: Validate() = %v, want ok=%v", tc.name, err, tc.ok)
		}
	}
}

func TestAllocationValidate(t *testing.T) {
	good := func() Allocation {
		return Allocation{SessionID: "s", Mode: "duel", Players: []Player{{ID: "a"}, {ID: "b", Team: 1}},
			Connect: ConnectVerification{Issuer: "cell", JWKS: json.RawMessage(`{"keys":[]}`)}}
	}
	tests := []struct {
		name   string
		mutate func(*Allocation)
		ok     bool
	}{
		{"good", func(*Allocation) {}, true},
		{"no players", func(a *Allocation) { a.Players = nil }, false},
		{"duplicate player", func(a *Allocation) { a.Players[1].ID = "a" }, false},
		{"no issuer", func(a *Allocation) { a.Connect.Issuer = "" }, false},
		{"no keys", func(a *Allocation) { a.Connect.JWKS = nil }, false},
		{"long mode", func(a *Allocation) { a.Mode = strings.Repeat("m", MaxIDLength+1) }, false},
	}
	for _, tc := range tests {
		a := good()
		tc.mutate(&a)
		if err := a.Validate(); (err == nil) != tc.ok {
			t.Errorf("%s: Validate() = %v, want ok=%v", tc.name, err, tc.ok)
		}
	}
	a := good()
	if !a.HasPlayer("b") || a.HasPlayer("c") {
		t.Error("HasPlayer")
	}
}

func TestShutdownReasonValidate(t *testing.T) {
	for _, tc := range []struct {
		reason string
		ok     bool
	}{
		{"", true},
		{"game over", true},
		{strings.Repeat("r", MaxReasonLength), true},
		{strings.Repeat("r", MaxReasonLength+1), false},
		{"\xff", false},
	} {
		r := ShutdownRequest{Reason: tc.reason}
		if err := r.Validate(); (err == nil) != tc.ok {
			t.Errorf("reason %q: %v, want ok=%v", tc.reason, err, tc.ok)
		}
	}
}

func TestTelemetryBatchValidate(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	good := func() TelemetryBatch {
		return TelemetryBatch{BatchID: "b1", SessionID: "s", Events: []TelemetryEvent{
			{Kind: "anticheat.violation", PlayerID: "p1", At: t0, Data: json.RawMessage(`{"violation":"speed","tick":7}`)},
			{Kind: "match.note-2", At: t0},
		}}
	}
	tests := []struct {
		name   string
		mutate func(*TelemetryBatch)
		ok     bool
	}{
		{"good", func(*TelemetryBatch) {}, true},
		{"no batch id", func(b *TelemetryBatch) { b.BatchID = "" }, false},
		{"no session", func(b *TelemetryBatch) { b.SessionID = "" }, false},
		{"no events", func(b *TelemetryBatch) { b.Events = nil }, false},
		{"too many events", func(b *TelemetryBatch) {
			for len(b.Events) <= MaxTelemetryEvents {
				b.Events = append(b.Events, b.Events[0])
			}
		}, false},
		{"upper-case kind", func(b *TelemetryBatch) { b.Events[0].Kind = "AntiCheat" }, false},
		{"empty kind", func(b *TelemetryBatch) { b.Events[0].Kind = "" }, false},
		{"long kind", func(b *TelemetryBatch) { b.Events[0].Kind = strings.Repeat("k", MaxTelemetryKind+1) }, false},
		{"bad player", func(b *TelemetryBatch) { b.Events[0].PlayerID = "a b" }, false},
		{"no time", func(b *TelemetryBatch) { b.Events[1].At = time.Time{} }, false},
		{"data not an object", func(b *TelemetryBatch) { b.Events[0].Data = json.RawMessage(`[1,2]`) }, false},
		{"data null", func(b *TelemetryBatch) { b.Events[0].Data = json.RawMessage(`null`) }, false},
		{"data not JSON", func(b *TelemetryBatch) { b.Events[0].Data = json.RawMessage(`{`) }, false},
		{"data too large", func(b *TelemetryBatch) {
			b.Events[0].Data = json.RawMessage(`{"x":"` + strings.Repeat("a", MaxTelemetryData) + `"}`)
		}, false},
	}
	for _, tc := range tests {
		b := good()
		tc.mutate(&b)
		if err := b.Validate(); (err == nil) != tc.ok {
			t.Errorf("%s: Validate() = %v, want ok=%v", tc.name, err, tc.ok)
		}
	}
}
