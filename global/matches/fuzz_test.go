package matches

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/atollgg/atoll/contract"
)

// FuzzDecodeCursor checks the history cursor, which arrives in a query
// string: no panic, and every cursor it accepts round-trips.
func FuzzDecodeCursor(f *testing.F) {
	f.Add(encodeCursor(position{at: time.UnixMicro(1_700_000_000_000_000).UTC(), id: "0b7e6a52-3c1e-4f4a-9a43-6ad1c3a8e0f1"}))
	for _, s := range []string{"", "!!", "MTIzLmJvYg", "LTEuMGI3ZTZhNTI", "AAAA"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		at, id, err := DecodeCursor(s)
		if err != nil {
			return
		}
		at2, id2, err := DecodeCursor(encodeCursor(position{at: at, id: id}))
		if err != nil || !at2.Equal(at) || id2 != id {
			t.Fatalf("%q decodes to %v %s, which does not round-trip: %v", s, at, id, err)
		}
	})
}

// FuzzMatchCompleted checks DecodeEvent on event bodies from the bus: no
// panic, every refusal wraps ErrInvalidEvent, and every event it accepts
// re-encodes to one it accepts and ranks into sides holding each player
// once.
func FuzzMatchCompleted(f *testing.F) {
	for _, s := range []string{
		`{"cell_id":"c1","region":"eu","session_id":"0b7e6a52-3c1e-4f4a-9a43-6ad1c3a8e0f1","game_mode":"duel",` +
			`"started_at":"2026-01-01T00:00:00Z","ended_at":"2026-01-01T00:10:00Z","players":[` +
			`{"player_id":"6f1d2c1e-8f57-4a8e-bb52-1a4c7d2b9f10","team":0,"placement":1},{"player_id":"7f1d2c1e-8f57-4a8e-bb52-1a4c7d2b9f10","team":1,"placement":2}]}`,
		`{"players":[{"team":-1}]}`, `{}`, `[]`, `null`, `{"session_id":"x"}`, `{} {}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		ev, err := DecodeEvent("c1", b)
		if err != nil {
			if !errors.Is(err, contract.ErrInvalidEvent) {
				t.Fatalf("refusal %v does not wrap ErrInvalidEvent", err)
			}
			return
		}
		if ev.CellID != "c1" {
			t.Fatalf("accepted an event of cell %q under c1", ev.CellID)
		}
		raw, err := json.Marshal(ev)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := DecodeEvent("c1", raw); err != nil {
			t.Fatalf("an accepted event does not decode again: %v", err)
		}
		st := rank(ev.Players)
		n := 0
		for _, sd := range st.sides {
			n += len(sd.Players)
			if sd.Rank < 1 || sd.Rank > len(st.sides) {
				t.Fatalf("rank %d of %d sides", sd.Rank, len(st.sides))
			}
		}
		if n != len(ev.Players) {
			t.Fatalf("%d players in sides, %d in the event", n, len(ev.Players))
		}
	})
}
