package keyset

import (
	"encoding/base64"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/atollgg/atoll/internal/httpx"
)

func TestRoundTrip(t *testing.T) {
	at := time.Date(2026, 12, 6, 5, 40, 0, 123456000, time.UTC)
	id := "7d0b1a9e-3c3f-4a8e-9a57-8d9f2b6c1e01"
	gotAt, gotID, err := Decode(Encode(at, id))
	if err != nil || !gotAt.Equal(at) || gotID != id {
		t.Fatalf("Decode(Encode) = %v %q %v, want %v %q", gotAt, gotID, err, at, id)
	}
}

func TestDecodeRefuses(t *testing.T) {
	enc := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	cases := map[string]string{
		"empty":           "",
		"not base64":      "%%%",
		"no separator":    enc("1700000000000000"),
		"negative time":   enc("-1.7d0b1a9e-3c3f-4a8e-9a57-8d9f2b6c1e01"),
		"not a number":    enc("x.7d0b1a9e-3c3f-4a8e-9a57-8d9f2b6c1e01"),
		"not a uuid":      enc("1.bob"),
		"braced uuid":     enc("1.{7d0b1a9e-3c3f-4a8e-9a57-8d9f2b6c1e01}"),
		"uuid no hyphens": enc("1.7d0b1a9e3c3f4a8e9a578d9f2b6c1e01"),
		"too long":        strings.Repeat("A", MaxCursorLength+1),
	}
	for name, s := range cases {
		t.Run(name, func(t *testing.T) {
			_, _, err := Decode(s)
			var he *httpx.Error
			if !errors.As(err, &he) || he.Status != http.StatusBadRequest || he.Code != httpx.CodeInvalidArgument {
				t.Fatalf("Decode(%q) = %v, want a 400 invalid_argument", s, err)
			}
		})
	}
}

// FuzzDecode: whatever a client sends, Decode refuses it cleanly or
// returns a position that encodes back to a cursor decoding the same.
func FuzzDecode(f *testing.F) {
	f.Add(Encode(time.Unix(1_700_000_000, 0), "7d0b1a9e-3c3f-4a8e-9a57-8d9f2b6c1e01"))
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		at, id, err := Decode(s)
		if err != nil {
			return
		}
		at2, id2, err := Decode(Encode(at, id))
		if err != nil || !at2.Equal(at) || id2 != id {
			t.Fatalf("re-encoded cursor decodes to %v %q %v, want %v %q", at2, id2, err, at, id)
		}
	})
}
