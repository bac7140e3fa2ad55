package cell

import (
	"errors"
	"testing"

	"github.com/atollgg/atoll/contract"
)

func TestDecodeErasure(t *testing.T) {
	const id = "0b7e6a6e-3f0e-4a51-9d7c-6c1b8f6f2a10"
	tests := []struct {
		name, body string
		want       string // empty: invalid
	}{
		{"valid", `{"player_id":"` + id + `","erased_at":"2026-12-06T04:00:00Z"}`, id},
		{"not json", `{`, ""},
		{"no id", `{}`, ""},
		{"not a uuid", `{"player_id":"../../x"}`, ""},
		{"uuid without dashes", `{"player_id":"0b7e6a6e3f0e4a519d7c6c1b8f6f2a10"}`, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := decodeErasure([]byte(tc.body))
			if tc.want == "" {
				if !errors.Is(err, contract.ErrInvalidEvent) {
					t.Fatalf("got %q, %v; want ErrInvalidEvent", got, err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("got %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

// FuzzDecodeErasure: a player.erased body from the network either decodes
// to a UUID or is invalid, never anything else.
func FuzzDecodeErasure(f *testing.F) {
	f.Add([]byte(`{"player_id":"0b7e6a6e-3f0e-4a51-9d7c-6c1b8f6f2a10"}`))
	f.Add([]byte(`{"player_id":1}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		id, err := decodeErasure(data)
		if err != nil {
			if !errors.Is(err, contract.ErrInvalidEvent) {
				t.Fatalf("error not ErrInvalidEvent: %v", err)
			}
			return
		}
		if len(id) != 36 {
			t.Fatalf("accepted id %q", id)
		}
	})
}
