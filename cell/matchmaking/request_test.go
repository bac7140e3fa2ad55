package matchmaking

import (
	"errors"
	"strings"
	"testing"

	"github.com/atollgg/atoll/cell/matchmaker"
	"github.com/atollgg/atoll/internal/httpx"
)

func testModes() map[string]matchmaker.Mode {
	out := map[string]matchmaker.Mode{}
	for _, m := range matchmaker.DefaultModes() {
		out[m.Name] = m
	}
	return out
}

func TestDecodeJoin(t *testing.T) {
	modes := testModes()
	for _, tc := range []struct {
		name, body string
		latency    int
		ok         bool
	}{
		{"solo", `{"game_mode":"duel","latencies_ms":{"eu":35,"us":120}}`, 35, true},
		{"party", `{"game_mode":"2v2","latencies_ms":{"eu":35},"party":[{"player_id":"p2","party_token":"t"}]}`, 35, true},
		{"party too large", `{"game_mode":"2v2","latencies_ms":{"eu":35},"party":[{"player_id":"p2","party_token":"t"},{"player_id":"p3","party_token":"t"}]}`, 0, false},
		{"member twice", `{"game_mode":"5v5","latencies_ms":{"eu":35},"party":[{"player_id":"p2","party_token":"t"},{"player_id":"p2","party_token":"u"}]}`, 0, false},
		{"member without token", `{"game_mode":"2v2","latencies_ms":{"eu":35},"party":[{"player_id":"p2"}]}`, 0, false},
		{"no mode", `{"latencies_ms":{"eu":35}}`, 0, false},
		{"unknown mode", `{"game_mode":"chess","latencies_ms":{"eu":35}}`, 0, false},
		{"no latencies", `{"game_mode":"duel"}`, 0, false},
		{"other region only", `{"game_mode":"duel","latencies_ms":{"us":35}}`, 0, false},
		{"latency too high", `{"game_mode":"duel","latencies_ms":{"eu":10001}}`, 0, false},
		{"latency not a number", `{"game_mode":"duel","latencies_ms":{"eu":"fast"}}`, 0, false},
		{"client rating", `{"game_mode":"duel","latencies_ms":{"eu":35},"rating":9000}`, 0, false},
		{"array", `[]`, 0, false},
		{"empty region name", `{"game_mode":"duel","latencies_ms":{"":1,"eu":3}}`, 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, lat, err := DecodeJoin(strings.NewReader(tc.body), modes, "eu")
			if tc.ok != (err == nil) {
				t.Fatalf("err = %v, want ok=%v", err, tc.ok)
			}
			var he *httpx.Error
			if err != nil && (!errors.As(err, &he) || he.Status/100 != 4) {
				t.Fatalf("error %v is not a 4xx *httpx.Error", err)
			}
			if tc.ok && lat != tc.latency {
				t.Fatalf("latency %d, want %d", lat, tc.latency)
			}
		})
	}
	many := `{"game_mode":"duel","latencies_ms":{"eu":1`
	for i := range MaxRegions {
		many += `,"r` + strings.Repeat("x", i%5) + string(rune('a'+i%26)) + string(rune('a'+i/26)) + `":1`
	}
	if _, _, err := DecodeJoin(strings.NewReader(many+`}}`), modes, "eu"); err == nil {
		t.Fatal("more than MaxRegions regions accepted")
	}
}

func TestDecodeClientMessage(t *testing.T) {
	for _, tc := range []struct {
		in string
		ok bool
	}{
		{`{"type":"auth","token":"abc"}`, true},
		{`{"type":"status"}`, true},
		{`{"type":"auth"}`, false},
		{`{"type":"status","token":"abc"}`, false},
		{`{"type":"cancel"}`, false},
		{`{"type":"status","extra":1}`, false},
		{`{"type":"status"}{}`, false},
		{`"status"`, false},
		{``, false},
	} {
		if _, err := DecodeClientMessage([]byte(tc.in)); (err == nil) != tc.ok {
			t.Errorf("DecodeClientMessage(%s): err = %v, want ok=%v", tc.in, err, tc.ok)
		}
	}
}

func FuzzDecodeJoin(f *testing.F) {
	modes := testModes()
	for _, s := range []string{
		`{"game_mode":"duel","latencies_ms":{"eu":35}}`,
		`{"game_mode":"2v2","latencies_ms":{"eu":35},"party":[{"player_id":"p2","party_token":"t"}]}`,
		`{"game_mode":"5v5","latencies_ms":{"eu":-1}}`, `{`, `null`, `{"party":null}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		req, lat, err := DecodeJoin(strings.NewReader(string(data)), modes, "eu")
		if err != nil {
			var he *httpx.Error
			if !errors.As(err, &he) || he.Status/100 != 4 {
				t.Fatalf("error %v is not a 4xx *httpx.Error", err)
			}
			return
		}
		m, ok := modes[req.GameMode]
		if !ok || lat != req.LatenciesMs["eu"] || lat < 0 || lat > matchmaker.MaxLatencyLimitMs || len(req.Party) > m.TeamSize-1 {
			t.Fatalf("accepted an invalid join: %+v (latency %d)", req, lat)
		}
	})
}

func FuzzDecodeConsent(f *testing.F) {
	modes := testModes()
	f.Add([]byte(`{"leader_id":"p1","game_mode":"2v2","latencies_ms":{"eu":35}}`))
	f.Add([]byte(`{"leader_id":"","game_mode":"duel","latencies_ms":{}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		req, lat, err := DecodeConsent(strings.NewReader(string(data)), modes, "eu")
		if err != nil {
			var he *httpx.Error
			if !errors.As(err, &he) || he.Status/100 != 4 {
				t.Fatalf("error %v is not a 4xx *httpx.Error", err)
			}
			return
		}
		if modes[req.GameMode].TeamSize < 2 || req.LeaderID == "" || lat != req.LatenciesMs["eu"] {
			t.Fatalf("accepted an invalid consent: %+v", req)
		}
	})
}

func FuzzDecodeClientMessage(f *testing.F) {
	for _, s := range []string{`{"type":"auth","token":"abc"}`, `{"type":"status"}`, `{"type":"x"}`, `[`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := DecodeClientMessage(data)
		if err != nil {
			return
		}
		switch {
		case len(data) > MaxWSMessage:
			t.Fatal("oversized message accepted")
		case m.Type == "auth" && m.Token == "":
			t.Fatal("auth without token accepted")
		case m.Type != "auth" && m.Type != "status":
			t.Fatalf("type %q accepted", m.Type)
		}
	})
}
