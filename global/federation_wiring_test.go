package global

import (
	"encoding/json"
	"testing"

	"github.com/atollgg/atoll/contract"
	"github.com/atollgg/atoll/global/federation"
)

func TestDecodeMatchCompleted(t *testing.T) {
	body, err := json.Marshal(contract.MatchCompleted{CellID: "eu-1", SessionID: "s"})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, cell string
		data       []byte
		poison     bool
	}{
		{"own cell", "eu-1", body, false},
		{"names another cell", "us-2", body, true},
		{"undecodable", "eu-1", []byte(`{"cell_id":`), true},
		{"wrong type", "eu-1", []byte(`{"players":1}`), true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			mc, err := decodeMatchCompleted(federation.Event{CellID: tc.cell, Data: tc.data})
			if federation.IsPoison(err) != tc.poison || (err != nil && !tc.poison) {
				t.Fatalf("err %v, want poison %v", err, tc.poison)
			}
			if !tc.poison && mc.SessionID != "s" {
				t.Fatalf("decoded %+v", mc)
			}
		})
	}
}

// FuzzDecodeMatchCompleted: any body either decodes to an event of the
// subject's cell or is poison.
func FuzzDecodeMatchCompleted(f *testing.F) {
	f.Add("eu-1", []byte(`{"cell_id":"eu-1","session_id":"x","players":[]}`))
	f.Add("eu-1", []byte(`{"cell_id":"us-2"}`))
	f.Fuzz(func(t *testing.T, cell string, data []byte) {
		mc, err := decodeMatchCompleted(federation.Event{CellID: cell, Data: data})
		if err != nil {
			if !federation.IsPoison(err) {
				t.Fatalf("not poison: %v", err)
			}
			return
		}
		if mc.CellID != cell {
			t.Fatalf("accepted cell %q under subject of %q", mc.CellID, cell)
		}
	})
}
