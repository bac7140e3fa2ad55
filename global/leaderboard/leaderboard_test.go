package leaderboard_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"testing"
	"time"

	"github.com/atollgg/atoll/contract"
	"github.com/atollgg/atoll/global"
	"github.com/atollgg/atoll/global/globaltest"
	"github.com/atollgg/atoll/global/leaderboard"
	"github.com/atollgg/atoll/internal/authn"
	"github.com/atollgg/atoll/internal/dbtest"
	"github.com/atollgg/atoll/internal/httpx"
	"github.com/atollgg/atoll/internal/obs"
	"github.com/atollgg/atoll/internal/rank"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

// t0 is a Sunday noon: the week 2026-W49 ends at midnight.
var t0 = time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)

// testDefs covers both orders, every operator, several fields and resets,
// and one regional board the core must not serve.
func testDefs() []contract.LeaderboardDefinition {
	return []contract.LeaderboardDefinition{
		{Name: "score_best", Operator: contract.OperatorBest, Scope: contract.ScopeGlobal, Field: contract.FieldScore},
		{Name: "deaths_best_asc", Order: contract.OrderAsc, Operator: contract.OperatorBest, Scope: contract.ScopeGlobal, Field: contract.FieldDeaths, Reset: contract.ResetWeekly},
		{Name: "kills_daily", Operator: contract.OperatorIncrement, Scope: contract.ScopeGlobal, Field: contract.FieldKills, Reset: contract.ResetDaily},
		{Name: "last_score_asc", Order: contract.OrderAsc, Operator: contract.OperatorSet, Scope: contract.ScopeGlobal, Field: contract.FieldScore, Reset: contract.ResetMonthly},
		{Name: "duel_wins", Operator: contract.OperatorIncrement, Scope: contract.ScopeGlobal, Field: contract.FieldWins, Modes: []string{"duel"}},
		{Name: "regional_kills", Operator: contract.OperatorIncrement, Scope: contract.ScopeRegional, Field: contract.FieldKills},
	}
}

func startCore(t *testing.T) *globaltest.Core {
	return globaltest.Start(t, func(c *global.Config) { c.Leaderboards = testDefs() })
}

func randomMatch(rng *rand.Rand, pool []string, i int) contract.MatchCompleted {
	// Sub-microsecond digits check that the database's precision is honoured.
	ended := t0.Add(-time.Duration(rng.IntN(21*24*60))*time.Minute + 123)
	ev := contract.MatchCompleted{CellID: "c1", Region: "eu", SessionID: fmt.Sprintf("s-%d", i),
		GameMode: []string{"duel", "5v5"}[rng.IntN(2)], EndedAt: ended}
	perm := rng.Perm(len(pool))
	for j := range 2 + rng.IntN(3) {
		ev.Players = append(ev.Players, contract.PlayerResult{PlayerID: pool[perm[j]], Score: rng.IntN(10) - 3,
			Kills: rng.IntN(4), Deaths: rng.IntN(4), Placement: j + 1})
	}
	return ev
}

// apply runs the applier in a transaction, then the after-commit step.
func apply(t *testing.T, core *globaltest.Core, ev contract.MatchCompleted) {
	t.Helper()
	ctx := context.Background()
	if err := core.DB.RunTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		return core.Leaderboards.ApplyMatchCompleted(ctx, tx, ev)
	}); err != nil {
		t.Fatal(err)
	}
	if err := core.Leaderboards.AfterMatchCompleted(ctx, ev); err != nil {
		t.Fatal(err)
	}
}

// reference is the brute-force model: board → season → player → entry.
type reference map[string]map[string]map[string]rank.Entry

func (r reference) apply(ev contract.MatchCompleted) {
	for _, d := range testDefs() {
		if d.Scope != contract.ScopeGlobal {
			continue
		}
		_ = d.Validate()
		season := d.Season(ev.EndedAt)
		for _, p := range ev.Players {
			v, ok := d.Value(ev.GameMode, p)
			if !ok {
				continue
			}
			if r[d.Name] == nil {
				r[d.Name] = map[string]map[string]rank.Entry{}
			}
			if r[d.Name][season] == nil {
				r[d.Name][season] = map[string]rank.Entry{}
			}
			cur, had := r[d.Name][season][p.PlayerID]
			at := ev.EndedAt.UnixMicro()
			better := (d.Order == contract.OrderAsc && v < cur.Score) || (d.Order != contract.OrderAsc && v > cur.Score)
			switch {
			case !had, d.Operator == contract.OperatorBest && better:
				cur = rank.Entry{ID: p.PlayerID, Score: v, Updated: at}
			case d.Operator == contract.OperatorBest && v == cur.Score:
				cur.Updated = min(cur.Updated, at)
			case d.Operator == contract.OperatorSet && (at > cur.Updated || at == cur.Updated && v > cur.Score):
				cur = rank.Entry{ID: p.PlayerID, Score: v, Updated: at}
			case d.Operator == contract.OperatorIncrement:
				cur.Score += v
				cur.Updated = max(cur.Updated, at)
			}
			r[d.Name][season][p.PlayerID] = cur
		}
	}
}

func (r reference) sorted(board, season string, asc bool) []rank.Entry {
	var es []rank.Entry
	for _, e := range r[board][season] {
		es = append(es, e)
	}
	sort.Slice(es, func(i, j int) bool {
		a, b := es[i], es[j]
		if a.Score != b.Score {
			return (a.Score < b.Score) == asc
		}
		if a.Updated != b.Updated {
			return a.Updated < b.Updated
		}
		return a.ID < b.ID
	})
	return es
}

// walk reads a whole season through the HTTP API's cursor pages.
func walk(t *testing.T, h http.Handler, board, season string) []contract.LeaderboardEntry {
	t.Helper()
	var out []contract.LeaderboardEntry
	cursor := ""
	for range 1000 {
		q := url.Values{"season": {season}, "limit": {"7"}}
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "/leaderboards/"+board+"?"+q.Encode(), nil))
		if rec.Code != http.StatusOK {
			t.Fatalf("%s %s: %d %s", board, season, rec.Code, rec.Body)
		}
		var page contract.LeaderboardPage
		if err := httpx.DecodeStrict(rec.Body, &page); err != nil {
			t.Fatal(err)
		}
		out = append(out, page.Entries...)
		if cursor = page.NextCursor; cursor == "" {
			return out
		}
	}
	t.Fatal("cursor walk did not end")
	return nil
}

func same(t *testing.T, h http.Handler, ref reference) {
	t.Helper()
	for _, d := range testDefs() {
		if d.Scope != contract.ScopeGlobal {
			continue
		}
		for season := range ref[d.Name] {
			want := ref.sorted(d.Name, season, d.Order == contract.OrderAsc)
			got := walk(t, h, d.Name, season)
			if len(got) != len(want) {
				t.Fatalf("%s %s: %d entries, want %d", d.Name, season, len(got), len(want))
			}
			for i, w := range want {
				g := got[i]
				if g.PlayerID != w.ID || g.Score != w.Score || g.Updated.UnixMicro() != w.Updated || g.Rank != i+1 {
					t.Fatalf("%s %s rank %d: %+v, want %+v", d.Name, season, i+1, g, w)
				}
			}
		}
	}
}

// TestApplyMatchesReferenceAndRebuild applies random matches in a shuffled
// order with redeliveries, then compares every board and season, read
// through the HTTP API, with the brute-force reference; then a fresh
// service rebuilt from PostgreSQL must serve the same boards.
func TestApplyMatchesReferenceAndRebuild(t *testing.T) {
	core := startCore(t)
	rng := rand.New(rand.NewPCG(5, 5))
	pool := make([]string, 30)
	for i := range pool {
		pool[i] = uuid.NewString()
	}
	ref := reference{}
	var events []contract.MatchCompleted
	for i := range 150 {
		ev := randomMatch(rng, pool, i)
		ref.apply(ev)
		events = append(events, ev)
		if rng.IntN(3) == 0 {
			events = append(events, ev) // a redelivery
		}
	}
	rng.Shuffle(len(events), func(i, j int) { events[i], events[j] = events[j], events[i] })
	for _, ev := range events {
		apply(t, core, ev)
	}
	same(t, core.Handler(), ref)

	rebuilt, err := leaderboard.New(context.Background(), leaderboard.Config{DB: core.DB, Definitions: testDefs(),
		Verifier: core.Verifier, Log: obs.Discard(), Now: func() time.Time { return t0 }})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	rebuilt.Routes(mux, func(h http.Handler) http.Handler { return h })
	same(t, mux, ref)
}

// TestRetriedTransaction: a transaction whose first attempt fails with a
// serialization error after applying runs again; the score counts once.
func TestRetriedTransaction(t *testing.T) {
	core := startCore(t)
	p := uuid.NewString()
	ev := contract.MatchCompleted{SessionID: "retry", GameMode: "5v5", EndedAt: t0, Players: []contract.PlayerResult{{PlayerID: p, Kills: 4}}}
	attempts := 0
	ctx := context.Background()
	if err := core.DB.RunTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		attempts++
		if err := core.Leaderboards.ApplyMatchCompleted(ctx, tx, ev); err != nil {
			return err
		}
		if attempts == 1 {
			return &pgconn.PgError{Code: "40001", Message: "injected serialization failure"}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for range 2 { // a duplicate after-commit call changes nothing either
		if err := core.Leaderboards.AfterMatchCompleted(ctx, ev); err != nil {
			t.Fatal(err)
		}
	}
	resp := core.Do(t, "GET", "/leaderboards/kills_daily/players/"+p+"?season=2026-12-06", "", nil)
	globaltest.MustStatus(t, resp, http.StatusOK)
	var got contract.LeaderboardPlayer
	resp.Decode(t, &got)
	if attempts != 2 || got.Entry.Score != 4 || got.Entry.Rank != 1 {
		t.Fatalf("after %d attempts: %+v, want 4 kills once", attempts, got)
	}
}

func TestInvalidEvents(t *testing.T) {
	core := startCore(t)
	good := contract.PlayerResult{PlayerID: uuid.NewString(), Kills: 1}
	for _, tc := range []struct {
		name string
		ev   contract.MatchCompleted
	}{
		{"no session", contract.MatchCompleted{EndedAt: t0, Players: []contract.PlayerResult{good}}},
		{"no end", contract.MatchCompleted{SessionID: "s", Players: []contract.PlayerResult{good}}},
		{"player id not a uuid", contract.MatchCompleted{SessionID: "s", EndedAt: t0, Players: []contract.PlayerResult{{PlayerID: "bob"}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := core.DB.RunTx(context.Background(), func(ctx context.Context, tx pgx.Tx) error {
				return core.Leaderboards.ApplyMatchCompleted(ctx, tx, tc.ev)
			})
			if !errors.Is(err, contract.ErrInvalidEvent) {
				t.Fatalf("error %v, want ErrInvalidEvent", err)
			}
		})
	}
}

// TestAPIAndErasure: around=me with a real player's token, the error
// envelopes, the export, and erasure through DELETE /player/me, after which
// a late event for the player writes nothing.
func TestAPIAndErasure(t *testing.T) {
	core := startCore(t)
	a, b, c := core.Guest(t), core.Guest(t), core.Guest(t)
	now := time.Now().UTC()
	apply(t, core, contract.MatchCompleted{SessionID: "m1", GameMode: "5v5", EndedAt: now, Players: []contract.PlayerResult{
		{PlayerID: a.ID, Kills: 5, Score: 50}, {PlayerID: b.ID, Kills: 9, Score: 20}, {PlayerID: c.ID, Kills: 1, Score: 70}}})

	resp := core.Do(t, "GET", "/leaderboards/kills_daily?around=me&limit=1", a.Access, nil)
	globaltest.MustStatus(t, resp, http.StatusOK)
	var page contract.LeaderboardPage
	resp.Decode(t, &page)
	if len(page.Entries) != 1 || page.Entries[0].PlayerID != a.ID || page.Entries[0].Rank != 2 || page.Total != 3 || page.Scope != "global" {
		t.Fatalf("around me: %+v", page)
	}
	resp = core.Do(t, "GET", "/leaderboards/score_best", "", nil)
	globaltest.MustStatus(t, resp, http.StatusOK)
	resp.Decode(t, &page)
	if len(page.Entries) != 3 || page.Entries[0].PlayerID != c.ID || page.Season != contract.SeasonAll {
		t.Fatalf("top: %+v", page)
	}
	for _, tc := range []struct {
		name, path, bearer string
		status             int
		code               string
	}{
		{"regional board at the core", "/leaderboards/regional_kills", "", 404, "not_found"},
		{"unknown board", "/leaderboards/x", "", 404, "not_found"},
		{"around without a token", "/leaderboards/kills_daily?around=me", "", 401, "unauthenticated"},
		{"bad limit", "/leaderboards/kills_daily?limit=-1", "", 400, "invalid_argument"},
		{"bad season", "/leaderboards/kills_daily?season=2026-13-01", "", 400, "invalid_argument"},
		{"player not a uuid", "/leaderboards/kills_daily/players/x", "", 400, "invalid_argument"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp := core.Do(t, "GET", tc.path, tc.bearer, nil)
			if resp.Status != tc.status || resp.ErrorCode() != tc.code {
				t.Fatalf("%d %s, want %d %s: %s", resp.Status, resp.ErrorCode(), tc.status, tc.code, resp.Body)
			}
		})
	}

	resp = core.Do(t, "GET", "/player/me/export", a.Access, nil)
	globaltest.MustStatus(t, resp, http.StatusOK)
	var export struct {
		Services struct {
			Leaderboards []leaderboard.ExportRow `json:"leaderboards"`
		} `json:"services"`
	}
	resp.Decode(t, &export)
	if len(export.Services.Leaderboards) != 4 {
		t.Fatalf("export: %+v", export.Services.Leaderboards)
	}

	globaltest.MustStatus(t, core.Do(t, "DELETE", "/player/me", a.Access, nil), http.StatusNoContent)
	// A late delivery of another match of the erased player writes nothing.
	apply(t, core, contract.MatchCompleted{SessionID: "m2", GameMode: "5v5", EndedAt: now, Players: []contract.PlayerResult{
		{PlayerID: a.ID, Kills: 50}, {PlayerID: b.ID, Kills: 1}}})
	resp = core.Do(t, "GET", "/leaderboards/kills_daily/players/"+a.ID, "", nil)
	if resp.Status != http.StatusNotFound {
		t.Fatalf("erased player still ranked: %d %s", resp.Status, resp.Body)
	}
	var rows int
	if err := core.DB.Pool.QueryRow(context.Background(), `SELECT count(*) FROM leaderboard_scores WHERE player_id = $1`, a.ID).Scan(&rows); err != nil || rows != 0 {
		t.Fatalf("erased player's rows: %d %v", rows, err)
	}
	resp = core.Do(t, "GET", "/leaderboards/kills_daily", "", nil)
	resp.Decode(t, &page)
	if page.Total != 2 || page.Entries[0].PlayerID != b.ID || page.Entries[0].Score != 10 {
		t.Fatalf("after erasure: %+v", page)
	}
}

// TestRefreshFromAnotherReplica: a second replica of the core sees scores
// the first one wrote once it refreshes, in loaded seasons (the current one
// and any past season it has read).
func TestRefreshFromAnotherReplica(t *testing.T) {
	core := startCore(t)
	replica, err := leaderboard.New(context.Background(), leaderboard.Config{DB: core.DB, Definitions: testDefs(),
		Verifier: core.Verifier, Log: obs.Discard()})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	replica.Routes(mux, func(h http.Handler) http.Handler { return h })
	p := uuid.NewString()
	apply(t, core, contract.MatchCompleted{SessionID: "r1", GameMode: "5v5", EndedAt: time.Now(), Players: []contract.PlayerResult{{PlayerID: p, Score: 8}}})
	get := func() int {
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, httptest.NewRequest("GET", "/leaderboards/score_best/players/"+p, nil))
		return rec.Code
	}
	if code := get(); code != http.StatusNotFound {
		t.Fatalf("the replica knew the score before refreshing: %d", code)
	}
	if err := replica.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	if code := get(); code != http.StatusOK {
		t.Fatalf("after refresh: %d", code)
	}
}

// TestScoreGrant: a server-side grant with a service credential counts once
// per idempotency key; clients' tokens are refused, and bad grants get
// envelopes.
func TestScoreGrant(t *testing.T) {
	const scorer, scorerToken = "scorer", "scorer-token-0123456789abcdef"
	core := globaltest.Start(t, func(c *global.Config) {
		c.Leaderboards = testDefs()
		c.CellTokens[scorer] = scorerToken
		c.CellScopes = authn.Scopes{scorer: {Scopes: []string{authn.ScopeLeaderboardsGrant}}}
	})
	a := core.Guest(t)
	path := "/internal/v1/leaderboards/kills_daily/scores"
	grant := func(key string, value int64) globaltest.Response {
		return core.Do(t, "POST", path, scorerToken, contract.LeaderboardScoreGrant{PlayerID: a.ID, Value: value, IdempotencyKey: key})
	}
	for _, want := range []int64{5, 5, 7} { // a retried key counts once
		key := "k1"
		if want == 7 {
			key = "k2"
		}
		resp := grant(key, map[string]int64{"k1": 5, "k2": 2}[key])
		globaltest.MustStatus(t, resp, http.StatusOK)
		var got contract.LeaderboardPlayer
		resp.Decode(t, &got)
		if got.Entry.Score != want || got.Entry.Rank != 1 || got.Total != 1 {
			t.Fatalf("after grant %s: %+v, want score %d", key, got, want)
		}
	}
	for _, tc := range []struct {
		name, path, bearer string
		body               any
		status             int
		code               string
	}{
		{"cell credential without the scope", path, globaltest.CellToken, contract.LeaderboardScoreGrant{PlayerID: a.ID, Value: 1, IdempotencyKey: "x"}, 403, "permission_denied"},
		{"player token", path, a.Access, contract.LeaderboardScoreGrant{PlayerID: a.ID, Value: 1, IdempotencyKey: "x"}, 401, "unauthenticated"},
		{"no credential", path, "", contract.LeaderboardScoreGrant{PlayerID: a.ID, Value: 1, IdempotencyKey: "x"}, 401, "unauthenticated"},
		{"regional board", "/internal/v1/leaderboards/regional_kills/scores", scorerToken, contract.LeaderboardScoreGrant{PlayerID: a.ID, Value: 1, IdempotencyKey: "x"}, 404, "not_found"},
		{"bad player", path, scorerToken, contract.LeaderboardScoreGrant{PlayerID: "bob", Value: 1, IdempotencyKey: "x"}, 400, "invalid_argument"},
		{"no key", path, scorerToken, contract.LeaderboardScoreGrant{PlayerID: a.ID, Value: 1}, 400, "invalid_argument"},
		{"huge value", path, scorerToken, contract.LeaderboardScoreGrant{PlayerID: a.ID, Value: 1 << 62, IdempotencyKey: "x"}, 400, "invalid_argument"},
		{"future", path, scorerToken, contract.LeaderboardScoreGrant{PlayerID: a.ID, Value: 1, IdempotencyKey: "x", At: time.Now().Add(time.Hour)}, 400, "invalid_argument"},
		{"unknown field", path, scorerToken, []byte(`{"player_id":"` + a.ID + `","value":1,"idempotency_key":"x","rank":1}`), 400, "invalid_argument"},
		{"not json", path, scorerToken, []byte(`{`), 400, "invalid_argument"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp := core.Do(t, "POST", tc.path, tc.bearer, tc.body)
			if resp.Status != tc.status || resp.ErrorCode() != tc.code {
				t.Fatalf("%d %s, want %d %s: %s", resp.Status, resp.ErrorCode(), tc.status, tc.code, resp.Body)
			}
		})
	}
}

// TestPruneApplied: applied rows past AppliedRetention are deleted, newer
// ones kept.
func TestPruneApplied(t *testing.T) {
	core := startCore(t)
	ctx := context.Background()
	old, fresh := uuid.NewString(), uuid.NewString()
	if _, err := core.DB.Pool.Exec(ctx, `INSERT INTO leaderboard_applied (session_id, leaderboard, player_id, applied_at)
		VALUES ('old', 'kills_daily', $1, now() - INTERVAL '31 days'), ('fresh', 'kills_daily', $2, now() - INTERVAL '29 days')`, old, fresh); err != nil {
		t.Fatal(err)
	}
	n, err := core.Leaderboards.PruneApplied(ctx)
	if err != nil || n != 1 {
		t.Fatalf("pruned %d rows, %v; want 1", n, err)
	}
	var left []string
	rows, _ := core.DB.Pool.Query(ctx, `SELECT session_id FROM leaderboard_applied`)
	left, err = pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil || len(left) != 1 || left[0] != "fresh" {
		t.Fatalf("left %v %v, want [fresh]", left, err)
	}
}
