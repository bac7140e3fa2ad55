package federation_test

import (
	"testing"

	"github.com/atollgg/atoll/contract"
	"github.com/atollgg/atoll/global/federation"
)

func TestParseSubject(t *testing.T) {
	for _, tc := range []struct {
		subject, cell, kind string
		ok                  bool
	}{
		{"cell.eu-1.match.completed", "eu-1", "match.completed", true},
		{"cell.eu-1.x", "eu-1", "x", true},
		{"cell.eu-1.", "", "", false},
		{"cell..x", "", "", false},
		{"global.player.erased", "", "", false},
		{"cell.eu-1", "", "", false},
		{"cell.*.x", "", "", false},
	} {
		cell, kind, err := federation.ParseSubject(tc.subject)
		if (err == nil) != tc.ok || cell != tc.cell || kind != tc.kind {
			t.Errorf("ParseSubject(%q) = %q, %q, %v", tc.subject, cell, kind, err)
		}
	}
}

// FuzzParseSubject: subjects come from the network (a cell's stream); any
// accepted one must round-trip through contract.CellSubject.
func FuzzParseSubject(f *testing.F) {
	for _, s := range []string{"cell.eu-1.match.completed", "cell..", "cell.a.b.c", "global.x", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, subject string) {
		cell, kind, err := federation.ParseSubject(subject)
		if err != nil {
			return
		}
		if !contract.ValidCellID(cell) || kind == "" || contract.CellSubject(cell, kind) != subject {
			t.Fatalf("ParseSubject(%q) = %q, %q", subject, cell, kind)
		}
	})
}
