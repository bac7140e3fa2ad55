package contract

import (
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestParseLeaderboards(t *testing.T) {
	good := `
leaderboards:
  - name: weekly_kills
    operator: increment
    scope: global
    reset: weekly
    field: kills
  - name: fastest
    order: asc
    operator: best
    scope: regional
    field: deaths
    modes: [duel]
`
	defs, err := ParseLeaderboards([]byte(good))
	if err != nil {
		t.Fatal(err)
	}
	if len(defs) != 2 || defs[0].Order != OrderDesc || defs[1].Reset != ResetNever || defs[1].Modes[0] != "duel" {
		t.Fatalf("defaults not applied: %+v", defs)
	}
	if defs, err := ParseLeaderboards(nil); err != nil || len(defs) != 0 {
		t.Fatalf("empty file: %v %v", defs, err)
	}
	for _, tc := range []struct{ name, yaml, want string }{
		{"unknown key", "leaderboards: [{name: a, operator: set, scope: global, field: score, colour: red}]", "colour"},
		{"bad name", "leaderboards: [{name: 'A B', operator: set, scope: global, field: score}]", "name must match"},
		{"bad order", "leaderboards: [{name: a, order: up, operator: set, scope: global, field: score}]", "order"},
		{"bad operator", "leaderboards: [{name: a, operator: max, scope: global, field: score}]", "operator"},
		{"bad scope", "leaderboards: [{name: a, operator: set, scope: planet, field: score}]", "scope"},
		{"bad reset", "leaderboards: [{name: a, operator: set, scope: global, reset: hourly, field: score}]", "reset"},
		{"bad field", "leaderboards: [{name: a, operator: set, scope: global, field: gold}]", "field"},
		{"duplicate", "leaderboards: [{name: a, operator: set, scope: global, field: score}, {name: a, operator: set, scope: global, field: kills}]", "defined twice"},
		{"not yaml", "leaderboards: [", "leaderboards"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseLeaderboards([]byte(tc.yaml))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one mentioning %q", err, tc.want)
			}
		})
	}
}

func TestSeason(t *testing.T) {
	// 2026-12-06 is a Sunday; ISO week 49 runs Monday 11-30 .. Sunday 12-06.
	for _, tc := range []struct {
		reset string
		at    time.Time
		want  string
	}{
		{ResetDaily, time.Date(2026, 12, 6, 23, 59, 59, 0, time.UTC), "2026-12-06"},
		{ResetDaily, time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC), "2026-12-07"},
		{ResetDaily, time.Date(2026, 12, 7, 0, 30, 0, 0, time.FixedZone("CET", 3600)), "2026-12-06"},
		{ResetWeekly, time.Date(2026, 12, 6, 23, 59, 59, 0, time.UTC), "2026-W49"},
		{ResetWeekly, time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC), "2026-W50"},
		{ResetWeekly, time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC), "2026-W53"},
		{ResetMonthly, time.Date(2026, 12, 31, 23, 59, 59, 0, time.UTC), "2026-12"},
		{ResetMonthly, time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC), "2027-01"},
		{ResetNever, time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC), SeasonAll},
	} {
		d := LeaderboardDefinition{Reset: tc.reset}
		if got := d.Season(tc.at); got != tc.want {
			t.Errorf("%s at %v: season %q, want %q", tc.reset, tc.at, got, tc.want)
		}
		if !d.ValidSeason(tc.want) {
			t.Errorf("%s: ValidSeason(%q) = false", tc.reset, tc.want)
		}
	}
	for _, tc := range []struct{ reset, season string }{
		{ResetDaily, "2026-12-32"}, {ResetDaily, "2026-12"}, {ResetWeekly, "2026-W54"}, {ResetWeekly, "2026-W7"},
		{ResetWeekly, "2026-12-06"}, {ResetMonthly, "2026-13"}, {ResetNever, "2026"}, {ResetMonthly, ""},
	} {
		d := LeaderboardDefinition{Reset: tc.reset}
		if d.ValidSeason(tc.season) {
			t.Errorf("%s: ValidSeason(%q) = true", tc.reset, tc.season)
		}
	}
}

func TestValue(t *testing.T) {
	p := PlayerResult{Score: 40, Kills: 7, Deaths: 2, Placement: 1}
	for _, tc := range []struct {
		field string
		modes []string
		want  int64
		ok    bool
	}{
		{FieldScore, nil, 40, true}, {FieldKills, nil, 7, true}, {FieldDeaths, nil, 2, true},
		{FieldWins, nil, 1, true}, {FieldMatches, nil, 1, true},
		{FieldScore, []string{"duel"}, 40, true}, {FieldScore, []string{"5v5"}, 0, false},
	} {
		d := LeaderboardDefinition{Field: tc.field, Modes: tc.modes}
		if v, ok := d.Value("duel", p); v != tc.want || ok != tc.ok {
			t.Errorf("%s %v: %d %v, want %d %v", tc.field, tc.modes, v, ok, tc.want, tc.ok)
		}
	}
	lost := PlayerResult{Placement: 2}
	if v, _ := (&LeaderboardDefinition{Field: FieldWins}).Value("duel", lost); v != 0 {
		t.Errorf("a loss counts %d wins", v)
	}
}

func TestParseLeaderboardQuery(t *testing.T) {
	cur := LeaderboardCursor{Set: true, Score: -5, UpdatedUS: 1765000000000000, PlayerID: "p.1"}
	q, err := ParseLeaderboardQuery(url.Values{"limit": {"7"}, "cursor": {cur.Encode()}, "season": {"2026-W49"}})
	if err != nil || q.Limit != 7 || q.Cursor != cur || q.Season != "2026-W49" || q.Around {
		t.Fatalf("query %+v %v", q, err)
	}
	if q, err := ParseLeaderboardQuery(url.Values{}); err != nil || q.Limit != DefaultLeaderboardLimit {
		t.Fatalf("defaults %+v %v", q, err)
	}
	for _, tc := range []struct {
		name string
		q    url.Values
	}{
		{"unknown", url.Values{"page": {"2"}}},
		{"repeated", url.Values{"limit": {"2", "3"}}},
		{"limit zero", url.Values{"limit": {"0"}}},
		{"limit too big", url.Values{"limit": {"101"}}},
		{"limit not a number", url.Values{"limit": {"ten"}}},
		{"around not me", url.Values{"around": {"you"}}},
		{"around and cursor", url.Values{"around": {"me"}, "cursor": {cur.Encode()}}},
		{"cursor garbage", url.Values{"cursor": {"!!"}}},
		{"cursor shape", url.Values{"cursor": {"YWJj"}}},
		{"cursor too long", url.Values{"cursor": {strings.Repeat("A", MaxLeaderboardCursor+1)}}},
		{"empty season", url.Values{"season": {""}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := ParseLeaderboardQuery(tc.q); err == nil {
				t.Fatal("accepted")
			}
		})
	}
}

// FuzzDecodeLeaderboardCursor: cursors come from the network; decoding never
// panics and what decodes re-encodes to itself.
func FuzzDecodeLeaderboardCursor(f *testing.F) {
	f.Add(LeaderboardCursor{Score: 3, UpdatedUS: 4, PlayerID: "x"}.Encode())
	f.Add("")
	f.Add("LTEuMC4")
	f.Fuzz(func(t *testing.T, s string) {
		c, err := DecodeLeaderboardCursor(s)
		if err != nil {
			return
		}
		again, err := DecodeLeaderboardCursor(c.Encode())
		if err != nil || again != c {
			t.Fatalf("%q: re-decoded %+v %v, want %+v", s, again, err, c)
		}
	})
}

// FuzzParseLeaderboardQuery: the query string comes from the network.
func FuzzParseLeaderboardQuery(f *testing.F) {
	f.Add("limit=5&around=me&season=2026-W49")
	f.Add("cursor=abc&limit=-1")
	f.Fuzz(func(t *testing.T, raw string) {
		v, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		q, err := ParseLeaderboardQuery(v)
		if err == nil && (q.Limit < 1 || q.Limit > MaxLeaderboardLimit || (q.Around && q.Cursor.Set)) {
			t.Fatalf("%q accepted as %+v", raw, q)
		}
	})
}
