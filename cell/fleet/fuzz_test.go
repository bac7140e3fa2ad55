package fleet

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"github.com/atollgg/atoll/gameserver/sdk"
	"github.com/atollgg/atoll/internal/httpx"
)

// FuzzSDKRequestDecoders feeds arbitrary bodies to the SDK API's request
// decoders: each must either reject the body with a 4xx envelope error or
// produce a value that validates and survives a JSON round trip.
func FuzzSDKRequestDecoders(f *testing.F) {
	for _, seed := range []string{
		`{"player_id":"p1"}`,
		`{"reason":"game over"}`,
		`{}`,
		`{"session_id":"s","started_at":"2026-01-01T00:00:00Z","ended_at":"2026-01-01T00:01:00Z","players":[{"player_id":"a","score":3,"kills":1,"deaths":0,"placement":1,"time_played_s":60}]}`,
		`{"session_id":"s","started_at":"2026-01-01T00:00:00Z","ended_at":"2026-01-01T00:01:00Z","players":[{"player_id":"a"},{"player_id":"a"}]}`,
		`{"player_id":"p1"} trailing`,
		`{"player_id":1e400}`,
		`{"time_played_s":NaN}`,
		"\xff\xfe",
		`[`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		targets := []func() validatable{
			func() validatable { return new(sdk.PlayerEvent) },
			func() validatable { return new(sdk.ShutdownRequest) },
			func() validatable { return new(sdk.Results) },
		}
		for _, newDst := range targets {
			dst := newDst()
			req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(string(body)))
			req.Header.Set("Content-Type", "application/json")
			err := decodeRequest(httptest.NewRecorder(), req, dst, sdk.MaxResultsBody)
			if err != nil {
				var he *httpx.Error
				if !errors.As(err, &he) || he.Status < 400 || he.Status > 499 {
					t.Fatalf("%T: decoder error is not a 4xx envelope: %v", dst, err)
				}
				continue
			}
			if err := dst.Validate(); err != nil {
				t.Fatalf("%T: accepted a value that does not validate: %v", dst, err)
			}
			again := newDst()
			data, err := json.Marshal(dst)
			if err != nil {
				t.Fatalf("%T: re-encode: %v", dst, err)
			}
			if err := json.Unmarshal(data, again); err != nil || !reflect.DeepEqual(normalize(dst), normalize(again)) {
				t.Fatalf("%T: round trip changed %+v into %+v (%v)", dst, dst, again, err)
			}
		}
	})
}

// normalize drops the monotonic clock reading and location of times,
// which JSON does not carry.
func normalize(v validatable) any {
	if r, ok := v.(*sdk.Results); ok {
		c := *r
		c.StartedAt, c.EndedAt = c.StartedAt.UTC().Round(0), c.EndedAt.UTC().Round(0)
		return c
	}
	return v
}

// FuzzParseWait checks the long-poll duration parser never panics and
// never exceeds sdk.MaxWait.
func FuzzParseWait(f *testing.F) {
	for _, s := range []string{"", "20s", "0", "-1s", "1h", "9999999999999999999h", "1.5ms", "x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := parseWait(s)
		if err != nil {
			var he *httpx.Error
			if !errors.As(err, &he) || he.Status != http.StatusBadRequest {
				t.Fatalf("parseWait(%q) error %v is not a 400", s, err)
			}
			return
		}
		if d < 0 || d > sdk.MaxWait {
			t.Fatalf("parseWait(%q) = %v, outside 0..%v", s, d, sdk.MaxWait)
		}
	})
}
