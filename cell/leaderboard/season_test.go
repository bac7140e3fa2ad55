package leaderboard

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/atollgg/atoll/contract"
)

// TestSeasonBoundary: at the weekly boundary (Monday 00:00 UTC) the board's
// current season starts empty, the past season stays readable with
// ?season=, and a match counts in the season it ended in.
func TestSeasonBoundary(t *testing.T) {
	keys := newKeys(t)
	b := startBus(t, t.TempDir())
	t.Cleanup(func() { stopBus(t, b) })
	sunday := time.Date(2026, 12, 6, 23, 59, 59, 0, time.UTC)
	var now atomic.Int64
	now.Store(sunday.UnixNano())
	s := startService(t, b, keys, func(c *Config) { c.Now = func() time.Time { return time.Unix(0, now.Load()) } })
	mux := http.NewServeMux()
	s.Routes(mux, func(h http.Handler) http.Handler { return h })
	page := func(query string) contract.LeaderboardPage {
		t.Helper()
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, httptest.NewRequest("GET", "/leaderboards/wins_weekly"+query, nil))
		var p contract.LeaderboardPage
		if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &p) != nil {
			t.Fatalf("%s: %d %s", query, rec.Code, rec.Body)
		}
		return p
	}
	p := players(2)
	waitSeq(t, s, publish(t, b, contract.MatchCompleted{CellID: testCell, SessionID: "sun", GameMode: "duel", EndedAt: sunday,
		Players: []contract.PlayerResult{{PlayerID: p[0], Placement: 1}, {PlayerID: p[1], Placement: 2}}}))
	if got := page(""); got.Season != "2026-W49" || got.Total != 2 || got.Entries[0].PlayerID != p[0] || got.Entries[0].Score != 1 {
		t.Fatalf("before the boundary: %+v", got)
	}

	now.Store(sunday.Add(time.Second).UnixNano()) // Monday 00:00:00
	if got := page(""); got.Season != "2026-W50" || got.Total != 0 {
		t.Fatalf("after the boundary the current season is not empty: %+v", got)
	}
	if got := page("?season=2026-W49"); got.Total != 2 || got.Entries[0].Score != 1 {
		t.Fatalf("the past season: %+v", got)
	}
	// A match that ended on Sunday but arrives on Monday counts for Sunday's
	// week; Monday's match counts for the new week.
	publish(t, b, contract.MatchCompleted{CellID: testCell, SessionID: "late", GameMode: "duel", EndedAt: sunday.Add(-time.Minute),
		Players: []contract.PlayerResult{{PlayerID: p[1], Placement: 1}}})
	waitSeq(t, s, publish(t, b, contract.MatchCompleted{CellID: testCell, SessionID: "mon", GameMode: "duel", EndedAt: sunday.Add(2 * time.Second),
		Players: []contract.PlayerResult{{PlayerID: p[1], Placement: 1}}}))
	if got := page("?season=2026-W49"); got.Total != 2 || got.Entries[0].Score != 1 || got.Entries[1].Score != 1 {
		t.Fatalf("the past season after a late match: %+v", got)
	}
	if got := page(""); got.Total != 1 || got.Entries[0].PlayerID != p[1] || got.Entries[0].Score != 1 {
		t.Fatalf("the new season: %+v", got)
	}
}
