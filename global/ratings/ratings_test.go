package ratings_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/atollgg/atoll/global"
	"github.com/atollgg/atoll/global/globaltest"
	"github.com/atollgg/atoll/global/ratings"
	"github.com/atollgg/atoll/internal/authn"
	"github.com/atollgg/atoll/internal/dbtest"
	"github.com/google/uuid"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

func TestReadRatings(t *testing.T) {
	const rewardsOnly = "rewards-only-token-0123456789"
	core := globaltest.Start(t, func(cfg *global.Config) {
		cfg.CellTokens = authn.Secrets{globaltest.CellID: globaltest.CellToken, "rewards-only": rewardsOnly}
		cfg.CellScopes = authn.Scopes{"rewards-only": {Scopes: []string{authn.ScopeResultsApply}}}
	})
	a, b := core.Guest(t), core.Guest(t)
	if _, err := core.DB.Pool.Exec(context.Background(),
		`INSERT INTO ratings (player_id, mode, rating, games) VALUES ($1, 'duel', 1712.5, 14), ($1, '2v2', 1300, 2)`, a.ID); err != nil {
		t.Fatal(err)
	}
	path := "/internal/v1/ratings?" + url.Values{"mode": {"duel"}, "player_id": {a.ID, b.ID}}.Encode()

	resp := core.Do(t, "GET", path, globaltest.CellToken, nil)
	globaltest.MustStatus(t, resp, http.StatusOK)
	var got ratings.Response
	resp.Decode(t, &got)
	if got.Mode != "duel" || len(got.Ratings) != 1 || got.Ratings[0] != (ratings.Rating{PlayerID: a.ID, Rating: 1712.5, Games: 14}) {
		t.Fatalf("ratings: %+v (want only %s's duel rating; %s has none)", got, a.ID, b.ID)
	}

	tooMany := url.Values{"mode": {"duel"}}
	for range ratings.MaxPlayersPerRequest + 1 {
		tooMany.Add("player_id", uuid.NewString())
	}
	for _, tc := range []struct {
		name, path, bearer string
		status             int
		code               string
	}{
		{"player token refused", path, a.Access, http.StatusUnauthorized, "unauthenticated"},
		{"credential without ratings:read", path, rewardsOnly, http.StatusForbidden, "permission_denied"},
		{"no credential", path, "", http.StatusUnauthorized, "unauthenticated"},
		{"wrong credential", path, strings.Repeat("x", 32), http.StatusUnauthorized, "unauthenticated"},
		{"no mode", "/internal/v1/ratings?player_id=" + a.ID, globaltest.CellToken, http.StatusBadRequest, "invalid_argument"},
		{"two modes", "/internal/v1/ratings?mode=duel&mode=2v2&player_id=" + a.ID, globaltest.CellToken, http.StatusBadRequest, "invalid_argument"},
		{"bad mode", "/internal/v1/ratings?mode=%20x&player_id=" + a.ID, globaltest.CellToken, http.StatusBadRequest, "invalid_argument"},
		{"no players", "/internal/v1/ratings?mode=duel", globaltest.CellToken, http.StatusBadRequest, "invalid_argument"},
		{"not a uuid", "/internal/v1/ratings?mode=duel&player_id=bob", globaltest.CellToken, http.StatusBadRequest, "invalid_argument"},
		{"unknown parameter", path + "&limit=3", globaltest.CellToken, http.StatusBadRequest, "invalid_argument"},
		{"too many players", "/internal/v1/ratings?" + tooMany.Encode(), globaltest.CellToken, http.StatusBadRequest, "invalid_argument"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp := core.Do(t, "GET", tc.path, tc.bearer, nil)
			if resp.Status != tc.status || resp.ErrorCode() != tc.code {
				t.Fatalf("%d %s, want %d %s: %s", resp.Status, resp.ErrorCode(), tc.status, tc.code, resp.Body)
			}
		})
	}

	// The player's own export includes their ratings.
	resp = core.Do(t, "GET", "/player/me/export", a.Access, nil)
	globaltest.MustStatus(t, resp, http.StatusOK)
	if !strings.Contains(string(resp.Body), `"ratings"`) || !strings.Contains(string(resp.Body), "1712.5") {
		t.Fatalf("export lacks ratings: %s", resp.Body)
	}
}
