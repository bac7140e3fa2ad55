package matches_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/atollgg/atoll/global/globaltest"
	"github.com/atollgg/atoll/global/matches"
)

// TestHistoryPages pages through a player's history over HTTP, newest
// first, and checks bad input gets the error envelope.
func TestHistoryPages(t *testing.T) {
	c := startCore(t)
	a, b, other := c.Guest(t), c.Guest(t), c.Guest(t)
	base := time.Now().UTC().Truncate(time.Second)
	var want []string // newest first
	for i := range 5 {
		// Two matches end at the same instant: the match id orders them.
		end := base.Add(time.Duration(i/2) * time.Minute)
		ev := match("duel", end, result(a.ID, 0, 1+i%2, 10), result(b.ID, 1, 2-i%2, 5))
		mustApply(t, c, ev)
		want = append(want, ev.SessionID)
	}
	mustApply(t, c, match("duel", base, result(other.ID, 0, 1, 1), result(b.ID, 1, 2, 0)))
	// Expected order: ended_at desc, then match id desc.
	ended := map[string]time.Time{}
	for i, id := range want {
		ended[id] = base.Add(time.Duration(i/2) * time.Minute)
	}
	for i := 1; i < len(want); i++ {
		for j := i; j > 0; j-- {
			x, y := want[j-1], want[j]
			if ended[y].After(ended[x]) || (ended[y].Equal(ended[x]) && y > x) {
				want[j-1], want[j] = y, x
			}
		}
	}

	var got []string
	cursor := ""
	for pages := 0; ; pages++ {
		if pages > 5 {
			t.Fatal("pagination does not end")
		}
		q := url.Values{"limit": {"2"}}
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		resp := c.Do(t, "GET", "/player/me/matches?"+q.Encode(), a.Access, nil)
		globaltest.MustStatus(t, resp, http.StatusOK)
		if resp.Header.Get("Cache-Control") != "no-store" {
			t.Fatalf("Cache-Control %q", resp.Header.Get("Cache-Control"))
		}
		var page matches.Page
		resp.Decode(t, &page)
		for _, m := range page.Matches {
			got = append(got, m.MatchID)
			if m.Mode != "duel" || m.Rating == nil || m.XP == 0 || (m.Outcome != matches.OutcomeWin && m.Outcome != matches.OutcomeLoss) {
				t.Fatalf("history row %+v", m)
			}
		}
		if page.NextCursor == "" {
			break
		}
		if len(page.Matches) != 2 {
			t.Fatalf("a non-final page of %d, want 2", len(page.Matches))
		}
		cursor = page.NextCursor
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("history order\n got  %v\n want %v", got, want)
	}

	// The default page holds all five; the other player sees only their one.
	resp := c.Do(t, "GET", "/player/me/matches", other.Access, nil)
	globaltest.MustStatus(t, resp, http.StatusOK)
	var page matches.Page
	resp.Decode(t, &page)
	if len(page.Matches) != 1 || page.NextCursor != "" {
		t.Fatalf("other player's history: %+v", page)
	}

	for _, tc := range []struct {
		name, query, bearer string
		status              int
		code                string
	}{
		{"no token", "", "", http.StatusUnauthorized, "unauthenticated"},
		{"cell token", "", globaltest.CellToken, http.StatusUnauthorized, "unauthenticated"},
		{"limit zero", "?limit=0", a.Access, http.StatusBadRequest, "invalid_argument"},
		{"limit too large", "?limit=101", a.Access, http.StatusBadRequest, "invalid_argument"},
		{"limit not a number", "?limit=ten", a.Access, http.StatusBadRequest, "invalid_argument"},
		{"limit twice", "?limit=1&limit=2", a.Access, http.StatusBadRequest, "invalid_argument"},
		{"cursor garbage", "?cursor=%21%21", a.Access, http.StatusBadRequest, "invalid_argument"},
		{"cursor not ours", "?cursor=" + "MTIzLmJvYg", a.Access, http.StatusBadRequest, "invalid_argument"},
		{"cursor too long", "?cursor=" + strings.Repeat("A", 200), a.Access, http.StatusBadRequest, "invalid_argument"},
		{"unknown parameter", "?player_id=" + b.ID, a.Access, http.StatusBadRequest, "invalid_argument"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp := c.Do(t, "GET", "/player/me/matches"+tc.query, tc.bearer, nil)
			if resp.Status != tc.status || resp.ErrorCode() != tc.code {
				t.Fatalf("%d %q, want %d %q: %s", resp.Status, resp.ErrorCode(), tc.status, tc.code, resp.Body)
			}
		})
	}
}

// TestEraseAndExport checks the export carries match history and ratings,
// and that erasing the player removes both while the other player's stay.
func TestEraseAndExport(t *testing.T) {
	c := startCore(t)
	ctx := context.Background()
	a, b := c.Guest(t), c.Guest(t)
	ev := match("duel", time.Now().UTC(), result(a.ID, 0, 1, 10), result(b.ID, 1, 2, 5))
	mustApply(t, c, ev)

	resp := c.Do(t, "GET", "/player/me/export", a.Access, nil)
	globaltest.MustStatus(t, resp, http.StatusOK)
	for _, s := range []string{`"matches"`, ev.SessionID, `"ratings"`, `"volatility"`} {
		if !strings.Contains(string(resp.Body), s) {
			t.Fatalf("export lacks %s: %s", s, resp.Body)
		}
	}

	globaltest.MustStatus(t, c.Do(t, "DELETE", "/player/me", a.Access, nil), http.StatusNoContent)
	count := func(sql, id string) int {
		var n int
		if err := c.DB.Pool.QueryRow(ctx, sql, id).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := count(`SELECT count(*) FROM ratings WHERE player_id = $1`, a.ID); n != 0 {
		t.Fatalf("%d ratings left after erasure", n)
	}
	if n := count(`SELECT count(*) FROM match_participants WHERE player_id = $1`, a.ID); n != 0 {
		t.Fatalf("%d history rows left after erasure", n)
	}
	if count(`SELECT count(*) FROM ratings WHERE player_id = $1`, b.ID) != 1 || count(`SELECT count(*) FROM match_participants WHERE player_id = $1`, b.ID) != 1 {
		t.Fatal("erasing one player touched the other's ratings or history")
	}

	// A match that ends after the erasure skips the erased player and
	// still rates and rewards the other.
	late := match("duel", time.Now().UTC(), result(a.ID, 0, 2, 0), result(b.ID, 1, 1, 5))
	mustApply(t, c, late)
	if n := count(`SELECT count(*) FROM match_participants WHERE player_id = $1`, a.ID); n != 0 {
		t.Fatalf("the erased player got %d history rows", n)
	}
	if n := count(`SELECT count(*) FROM match_participants WHERE player_id = $1`, b.ID); n != 2 {
		t.Fatalf("the other player has %d history rows, want 2", n)
	}
	// Replaying the first match does not bring the erased player back.
	mustApply(t, c, ev)
	if n := count(`SELECT count(*) FROM ratings WHERE player_id = $1`, a.ID); n != 0 {
		t.Fatalf("a replay re-created %d ratings of the erased player", n)
	}
}
