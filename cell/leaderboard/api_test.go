package leaderboard

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/atollgg/atoll/contract"
	"github.com/atollgg/atoll/internal/httpx"
	"github.com/atollgg/atoll/internal/rank"
)

type apiClient struct {
	t   *testing.T
	url string
}

func (c apiClient) get(path, bearer string, into any) (int, string) {
	c.t.Helper()
	req, err := httpx.NewJSONRequest(context.Background(), "GET", c.url+path, bearer, nil)
	if err != nil {
		c.t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return resp.StatusCode, httpx.ParseError(resp.StatusCode, body).Code
	}
	if err := json.Unmarshal(body, into); err != nil {
		c.t.Fatalf("%s: %v: %s", path, err, body)
	}
	return resp.StatusCode, ""
}

// TestAPI serves a board of known entries and checks every route: top N,
// cursor pages that walk the whole board, around=me, one player, past
// seasons, and the error envelopes of bad input.
func TestAPI(t *testing.T) {
	keys := newKeys(t)
	b := startBus(t, t.TempDir())
	t.Cleanup(func() { stopBus(t, b) })
	s := startService(t, b, keys)
	pool := players(25)
	// 25 players: kills_daily scores 0..24 with a tie at the top, all today;
	// one match yesterday makes an archived season.
	var last uint64
	for i, p := range pool {
		k := i
		if i == 24 {
			k = 23 // ties player 23, later: ranks after them
		}
		ev := contract.MatchCompleted{CellID: testCell, SessionID: "s" + p, GameMode: "5v5",
			EndedAt: t0.Add(time.Duration(i) * time.Second), Players: []contract.PlayerResult{{PlayerID: p, Kills: k}}}
		last = publish(t, b, ev)
	}
	last = publish(t, b, contract.MatchCompleted{CellID: testCell, SessionID: "old", GameMode: "5v5",
		EndedAt: t0.Add(-24 * time.Hour), Players: []contract.PlayerResult{{PlayerID: pool[0], Kills: 99}}})
	waitSeq(t, s, last)

	mux := http.NewServeMux()
	s.Routes(mux, func(h http.Handler) http.Handler { return h })
	srv := httptest.NewServer(httpx.JSONFallback(mux))
	t.Cleanup(srv.Close)
	c := apiClient{t, srv.URL}

	// Top 3: 23 (earlier), 24 (same kills, later), 22.
	var page contract.LeaderboardPage
	c.get("/leaderboards/kills_daily?limit=3", "", &page)
	if page.Season != "2026-12-06" || page.Total != 25 || len(page.Entries) != 3 || page.NextCursor == "" {
		t.Fatalf("top 3: %+v", page)
	}
	for i, want := range []string{pool[23], pool[24], pool[22]} {
		if e := page.Entries[i]; e.PlayerID != want || e.Rank != i+1 {
			t.Fatalf("top 3 rank %d: %+v, want %s", i+1, e, want)
		}
	}
	if !page.Entries[0].Updated.Equal(t0.Add(23 * time.Second)) {
		t.Fatalf("updated %v", page.Entries[0].Updated)
	}

	// Cursor pages walk the whole board exactly once, in rank order.
	var walked []contract.LeaderboardEntry
	cursor := ""
	for range 20 {
		var p contract.LeaderboardPage
		path := "/leaderboards/kills_daily?limit=4"
		if cursor != "" {
			path += "&cursor=" + url.QueryEscape(cursor)
		}
		if st, code := c.get(path, "", &p); st != http.StatusOK {
			t.Fatalf("page: %d %s", st, code)
		}
		walked = append(walked, p.Entries...)
		if cursor = p.NextCursor; cursor == "" {
			break
		}
	}
	if len(walked) != 25 {
		t.Fatalf("cursor walk saw %d entries, want 25", len(walked))
	}
	for i, e := range walked {
		if e.Rank != i+1 || (i > 0 && e.Score > walked[i-1].Score) {
			t.Fatalf("cursor walk entry %d: %+v", i, e)
		}
	}

	// around=me: player 10 has 10 kills, rank 15 of 25.
	var around contract.LeaderboardPage
	c.get("/leaderboards/kills_daily?around=me&limit=5", keys.token(t, pool[10]), &around)
	if len(around.Entries) != 5 || around.Entries[2].PlayerID != pool[10] || around.Entries[2].Rank != 15 || around.Entries[0].Rank != 13 {
		t.Fatalf("around me: %+v", around)
	}
	// At the top the page shifts down to stay full.
	c.get("/leaderboards/kills_daily?around=me&limit=5", keys.token(t, pool[23]), &around)
	if len(around.Entries) != 5 || around.Entries[0].Rank != 1 || around.Entries[0].PlayerID != pool[23] {
		t.Fatalf("around me at the top: %+v", around)
	}

	var one contract.LeaderboardPlayer
	c.get("/leaderboards/kills_daily/players/"+pool[10], "", &one)
	if one.Entry.Rank != 15 || one.Entry.Score != 10 || one.Total != 25 {
		t.Fatalf("player: %+v", one)
	}
	// The archived season is readable and holds yesterday's match only.
	c.get("/leaderboards/kills_daily/players/"+pool[0]+"?season=2026-12-05", "", &one)
	if one.Entry.Rank != 1 || one.Entry.Score != 99 || one.Total != 1 || one.Season != "2026-12-05" {
		t.Fatalf("archived season: %+v", one)
	}
	var archived contract.LeaderboardPage
	c.get("/leaderboards/kills_daily?season=2026-12-05", "", &archived)
	if archived.Total != 1 || archived.NextCursor != "" {
		t.Fatalf("archived page: %+v", archived)
	}
	// A season nobody played is empty, not an error.
	var empty contract.LeaderboardPage
	c.get("/leaderboards/kills_daily?season=2020-01-01", "", &empty)
	if empty.Total != 0 || len(empty.Entries) != 0 {
		t.Fatalf("empty season: %+v", empty)
	}

	stranger := "00000000-0000-4000-8000-000000000001"
	for _, tc := range []struct {
		name, path, bearer string
		status             int
		code               string
	}{
		{"unknown board", "/leaderboards/nope", "", 404, "not_found"},
		{"global board at a cell", "/leaderboards/global_kills", "", 404, "not_found"},
		{"limit too big", "/leaderboards/kills_daily?limit=1000", "", 400, "invalid_argument"},
		{"limit zero", "/leaderboards/kills_daily?limit=0", "", 400, "invalid_argument"},
		{"unknown parameter", "/leaderboards/kills_daily?offset=3", "", 400, "invalid_argument"},
		{"bad cursor", "/leaderboards/kills_daily?cursor=%25%25", "", 400, "invalid_argument"},
		{"around and cursor", "/leaderboards/kills_daily?around=me&cursor=" + page.NextCursor + "MS4yLng", keys.token(t, pool[1]), 400, "invalid_argument"},
		{"bad season", "/leaderboards/kills_daily?season=2026-W49", "", 400, "invalid_argument"},
		{"around without token", "/leaderboards/kills_daily?around=me", "", 401, "unauthenticated"},
		{"around with a bad token", "/leaderboards/kills_daily?around=me", "garbage", 401, "unauthenticated"},
		{"around without a rank", "/leaderboards/kills_daily?around=me", keys.token(t, stranger), 404, "not_found"},
		{"around in an empty season", "/leaderboards/kills_daily?around=me&season=2020-01-01", keys.token(t, pool[1]), 404, "not_found"},
		{"player not a uuid", "/leaderboards/kills_daily/players/bob", "", 400, "invalid_argument"},
		{"player unranked", "/leaderboards/kills_daily/players/" + stranger, "", 404, "not_found"},
		{"player bad parameter", "/leaderboards/kills_daily/players/" + pool[1] + "?limit=3", "", 400, "invalid_argument"},
		{"player bad season", "/leaderboards/kills_daily/players/" + pool[1] + "?season=yesterday", "", 400, "invalid_argument"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var sink json.RawMessage
			st, code := c.get(tc.path, tc.bearer, &sink)
			if st != tc.status || code != tc.code {
				t.Fatalf("%d %s, want %d %s", st, code, tc.status, tc.code)
			}
		})
	}
}

// TestPrune: a board keeps its current season and KeepSeasons past ones.
func TestPrune(t *testing.T) {
	keys := newKeys(t)
	b := startBus(t, t.TempDir())
	t.Cleanup(func() { stopBus(t, b) })
	s := startService(t, b, keys, func(c *Config) { c.KeepSeasons = 2 })
	p := players(1)[0]
	var last uint64
	for d := range 5 {
		last = publish(t, b, contract.MatchCompleted{CellID: testCell, SessionID: "d" + string(rune('a'+d)), GameMode: "5v5",
			EndedAt: t0.Add(-time.Duration(d) * 24 * time.Hour), Players: []contract.PlayerResult{{PlayerID: p, Kills: 1}}})
	}
	waitSeq(t, s, last)
	s.Prune()
	got := s.boards.Seasons("kills_daily")
	if want := []string{"2026-12-04", "2026-12-05", "2026-12-06"}; len(got) != 3 || got[0] != want[0] || got[2] != want[2] {
		t.Fatalf("seasons after prune: %v, want %v", got, want)
	}
	var x *rank.Index
	s.boards.Read("kills_daily", "2026-12-03", func(i *rank.Index) { x = i })
	if x != nil {
		t.Fatal("a pruned season is still readable")
	}
}
