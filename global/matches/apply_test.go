package matches_test

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/atollgg/atoll/contract"
	"github.com/atollgg/atoll/global/economy"
	"github.com/atollgg/atoll/global/globaltest"
	"github.com/atollgg/atoll/global/matches"
	"github.com/atollgg/atoll/global/ratings"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

func near(a, b float64) bool { return math.Abs(a-b) < 1e-6 }

// TestApplyDuel applies one duel and checks every effect: xp and level,
// rewards in wallet and ledger, Glicko-2 ratings (through the cells' read
// API too) and both players' history rows.
func TestApplyDuel(t *testing.T) {
	c := startCore(t)
	ctx := context.Background()
	a, b := c.Guest(t), c.Guest(t)
	ev := match("duel", time.Now().UTC().Truncate(time.Microsecond), result(a.ID, 0, 1, 100), result(b.ID, 1, 2, 50))

	// The federation retries a transaction that hit a serialization
	// failure: the first attempt's effects roll back, the second commits.
	attempts := 0
	if err := c.DB.RunTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		attempts++
		if err := c.Matches.ApplyMatchCompleted(ctx, tx, ev); err != nil {
			return err
		}
		if attempts == 1 {
			return &pgconn.PgError{Code: "40001", Message: "injected serialization failure"}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if attempts != 2 {
		t.Fatalf("%d attempts, want 2", attempts)
	}

	levels := c.Economy.Levels()
	unrated := ratings.Unrated()
	winner, _ := ratings.Update(unrated, []ratings.Result{{Opponent: unrated, Score: 1}}, 0)
	loser, _ := ratings.Update(unrated, []ratings.Result{{Opponent: unrated, Score: 0}}, 0)
	for _, tc := range []struct {
		name    string
		p       globaltest.Player
		xp      int64
		coins   int64
		outcome string
		place   int
		rating  ratings.Glicko
	}{
		{"winner", a, 150, 30, matches.OutcomeWin, 1, winner},
		{"loser", b, 100, 10, matches.OutcomeLoss, 2, loser},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var xp int64
			var level int
			if err := c.DB.Pool.QueryRow(ctx, `SELECT xp, player_level FROM players WHERE id = $1`, tc.p.ID).Scan(&xp, &level); err != nil {
				t.Fatal(err)
			}
			if xp != tc.xp || level != levels.LevelFor(tc.xp) {
				t.Fatalf("xp %d level %d, want %d and %d", xp, level, tc.xp, levels.LevelFor(tc.xp))
			}
			w, err := c.Economy.Wallet(ctx, tc.p.ID)
			if err != nil {
				t.Fatal(err)
			}
			if w.Balances["coins"] != 1000+tc.coins || w.Balances["gems"] != 0 {
				t.Fatalf("wallet %+v, want 1000+%d coins and no gems", w.Balances, tc.coins)
			}
			var ledger int64
			if err := c.DB.Pool.QueryRow(ctx, `SELECT COALESCE(sum(amount), 0) FROM transactions
				WHERE player_id = $1 AND idempotency_key = $2 AND reason = 'reward' AND currency_type = 'coins'`,
				tc.p.ID, matches.RewardKey(ev.SessionID)).Scan(&ledger); err != nil {
				t.Fatal(err)
			}
			if ledger != tc.coins {
				t.Fatalf("ledger has %d coins of reward, want %d", ledger, tc.coins)
			}
			var g ratings.Glicko
			var games int
			if err := c.DB.Pool.QueryRow(ctx, `SELECT rating, rd, volatility, games FROM ratings WHERE player_id = $1 AND mode = 'duel'`,
				tc.p.ID).Scan(&g.Rating, &g.RD, &g.Volatility, &games); err != nil {
				t.Fatal(err)
			}
			if !near(g.Rating, tc.rating.Rating) || !near(g.RD, tc.rating.RD) || !near(g.Volatility, tc.rating.Volatility) || games != 1 {
				t.Fatalf("rating %+v games %d, want %+v after 1 game", g, games, tc.rating)
			}
			page, err := c.Matches.History(ctx, tc.p.ID, 10, "")
			if err != nil {
				t.Fatal(err)
			}
			if len(page.Matches) != 1 {
				t.Fatalf("history %+v, want one match", page)
			}
			m := page.Matches[0]
			if m.MatchID != ev.SessionID || m.Mode != "duel" || m.CellID != globaltest.CellID || m.Region != "eu-west" ||
				!m.EndedAt.Equal(ev.EndedAt) || !m.StartedAt.Equal(ev.StartedAt) || m.Players != 2 || m.Teams != 2 ||
				m.Outcome != tc.outcome || m.Placement != tc.place || m.XP != tc.xp || m.Rewards["coins"] != tc.coins ||
				m.LevelAfter == nil || *m.LevelAfter != level || m.Rating == nil || !near(m.Rating.After, tc.rating.Rating) ||
				!near(m.Rating.Change, tc.rating.Rating-ratings.DefaultRating) {
				t.Fatalf("history row %+v", m)
			}
		})
	}
	mustReconcile(t, c, a.ID, b.ID)

	// The cells' read API serves the new ratings unchanged in shape.
	resp := c.Do(t, "GET", contract.RatingsPath+"?"+url.Values{"mode": {"duel"}, "player_id": {a.ID, b.ID}}.Encode(), globaltest.CellToken, nil)
	globaltest.MustStatus(t, resp, http.StatusOK)
	var got contract.RatingsResponse
	resp.Decode(t, &got)
	if len(got.Ratings) != 2 || got.Ratings[0].Games != 1 || got.Ratings[1].Games != 1 {
		t.Fatalf("ratings API: %+v", got)
	}
	for _, r := range got.Ratings {
		want := loser.Rating
		if r.PlayerID == a.ID {
			want = winner.Rating
		}
		if !near(r.Rating, want) {
			t.Fatalf("ratings API: %+v, want %s at %f", got, r.PlayerID, want)
		}
	}
}

// TestReplayChangesNothing applies the same event in a second transaction,
// with no applied-marker but the applier's own per (match, player) rows:
// nothing changes, not even for an altered copy of the event.
func TestReplayChangesNothing(t *testing.T) {
	c := startCore(t)
	a, b, d := c.Guest(t), c.Guest(t), c.Guest(t)
	ev := match("ffa4", time.Now().UTC(), result(a.ID, 0, 1, 90), result(b.ID, 1, 2, 50), result(d.ID, 2, 3, 10))
	mustApply(t, c, ev)
	before := snapshot(t, c, a.ID, b.ID, d.ID)
	if before.History == "" || before.Ratings == "" {
		t.Fatalf("first application wrote nothing: %+v", before)
	}
	mustApply(t, c, ev)
	altered := ev
	altered.Players = []contract.PlayerResult{result(a.ID, 0, 3, 0), result(b.ID, 1, 1, 99), result(d.ID, 2, 2, 50)}
	mustApply(t, c, altered)
	if after := snapshot(t, c, a.ID, b.ID, d.ID); after != before {
		t.Fatalf("a replay changed state:\n before %+v\n after  %+v", before, after)
	}
	mustReconcile(t, c, a.ID, b.ID, d.ID)
}

// TestFreeForAllAndTeams checks ranking by placement (ties share the better
// place), placement bonuses, team ratings against the other team's average
// and the skipping of players without an account.
func TestFreeForAllAndTeams(t *testing.T) {
	c := startCore(t)
	ctx := context.Background()
	p := []globaltest.Player{c.Guest(t), c.Guest(t), c.Guest(t), c.Guest(t)}
	ghost := uuid.NewString() // never had an account
	ffa := match("ffa4", time.Now().UTC(),
		result(p[0].ID, 0, 2, 40), result(p[1].ID, 1, 1, 90), result(p[2].ID, 2, 2, 40), result(ghost, 3, 4, 0))
	mustApply(t, c, ffa)
	type row struct {
		place   int
		outcome string
		xp      int64
		coins   int64
		rating  float64
	}
	read := func(id, matchID string) (r row, ok bool) {
		err := c.DB.Pool.QueryRow(ctx, `SELECT placement, outcome, xp, COALESCE((rewards->>'coins')::BIGINT, 0), COALESCE(rating_after, 0)
			FROM match_participants WHERE match_id = $1 AND player_id = $2`, matchID, id).Scan(&r.place, &r.outcome, &r.xp, &r.coins, &r.rating)
		if errors.Is(err, pgx.ErrNoRows) {
			return r, false
		}
		if err != nil {
			t.Fatal(err)
		}
		return r, true
	}
	first, _ := read(p[1].ID, ffa.SessionID)
	second, _ := read(p[0].ID, ffa.SessionID)
	tied, _ := read(p[2].ID, ffa.SessionID)
	if first.place != 1 || first.outcome != matches.OutcomeWin || first.xp != 100 || first.coins != 35 {
		t.Fatalf("first: %+v", first)
	}
	if second.place != 2 || tied.place != 2 || second.outcome != matches.OutcomeLoss || second.xp != 40 || second.coins != 20 || tied.coins != 20 {
		t.Fatalf("tied second places: %+v %+v", second, tied)
	}
	// Each second lost to the first, drew with the other second and beat
	// the fourth, all unrated: their expected score, 1.5, is what they got.
	if !(first.rating > ratings.DefaultRating) || !near(second.rating, ratings.DefaultRating) || !near(second.rating, tied.rating) {
		t.Fatalf("ratings: first %f, tied seconds %f and %f", first.rating, second.rating, tied.rating)
	}
	if _, ok := read(ghost, ffa.SessionID); ok {
		t.Fatal("a player without an account got a history row")
	}
	var ghostRatings int
	if err := c.DB.Pool.QueryRow(ctx, `SELECT count(*) FROM ratings WHERE player_id = $1`, ghost).Scan(&ghostRatings); err != nil || ghostRatings != 0 {
		t.Fatalf("ghost ratings: %d %v", ghostRatings, err)
	}

	// 2v2 in a mode with only the * rule: 10 xp, no coins. The teams are
	// level in rating, so both winners gain the same and both losers lose it.
	team := match("2v2", time.Now().UTC(), result(p[0].ID, 0, 0, 10), result(p[1].ID, 0, 0, 20), result(p[2].ID, 1, 0, 25), result(p[3].ID, 1, 0, 0))
	mustApply(t, c, team)
	rows := make([]row, 4)
	for i := range p {
		rows[i], _ = read(p[i].ID, team.SessionID)
	}
	unrated := ratings.Unrated()
	win, _ := ratings.Update(unrated, []ratings.Result{{Opponent: unrated, Score: 1}}, 0)
	if rows[0].outcome != matches.OutcomeWin || rows[1].outcome != matches.OutcomeWin || rows[2].outcome != matches.OutcomeLoss ||
		rows[0].xp != 10 || rows[0].coins != 0 || !near(rows[0].rating, win.Rating) || !near(rows[1].rating, win.Rating) ||
		!near(rows[2].rating-ratings.DefaultRating, ratings.DefaultRating-win.Rating) || !near(rows[2].rating, rows[3].rating) {
		t.Fatalf("2v2 by total score (no placements): %+v", rows)
	}
}

// TestInvalidEvents checks that malformed events wrap contract.ErrInvalidEvent
// and write nothing.
func TestInvalidEvents(t *testing.T) {
	c := startCore(t)
	a, b := c.Guest(t), c.Guest(t)
	now := time.Now().UTC()
	ok := func() contract.MatchCompleted {
		return match("duel", now, result(a.ID, 0, 1, 1), result(b.ID, 1, 2, 0))
	}
	applied := ok()
	mustApply(t, c, applied)
	before := snapshot(t, c, a.ID, b.ID)
	for _, tc := range []struct {
		name   string
		mutate func(*contract.MatchCompleted)
	}{
		{"session id not a uuid", func(e *contract.MatchCompleted) { e.SessionID = "s-1" }},
		{"no cell", func(e *contract.MatchCompleted) { e.CellID = "" }},
		{"cell with spaces", func(e *contract.MatchCompleted) { e.CellID = "a b" }},
		{"bad mode", func(e *contract.MatchCompleted) { e.GameMode = "../x" }},
		{"no players", func(e *contract.MatchCompleted) { e.Players = nil }},
		{"player twice", func(e *contract.MatchCompleted) { e.Players[1].PlayerID = e.Players[0].PlayerID }},
		{"player id not a uuid", func(e *contract.MatchCompleted) { e.Players[0].PlayerID = "bob" }},
		{"ended before started", func(e *contract.MatchCompleted) { e.EndedAt = e.StartedAt.Add(-time.Second) }},
		{"no times", func(e *contract.MatchCompleted) { e.StartedAt, e.EndedAt = time.Time{}, time.Time{} }},
		{"negative kills", func(e *contract.MatchCompleted) { e.Players[0].Kills = -1 }},
		{"negative team", func(e *contract.MatchCompleted) { e.Players[0].Team = -1 }},
		{"time played NaN", func(e *contract.MatchCompleted) { e.Players[0].TimePlayedS = math.NaN() }},
		{"session reused by another cell", func(e *contract.MatchCompleted) { e.SessionID, e.CellID = applied.SessionID, "cell-other" }},
		{"session reused for another mode", func(e *contract.MatchCompleted) { e.SessionID, e.GameMode = applied.SessionID, "2v2" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ev := ok()
			tc.mutate(&ev)
			err := apply(t, c, ev)
			if !errors.Is(err, contract.ErrInvalidEvent) {
				t.Fatalf("error %v, want contract.ErrInvalidEvent", err)
			}
		})
	}
	if after := snapshot(t, c, a.ID, b.ID); after != before {
		t.Fatalf("an invalid event changed state:\n before %+v\n after  %+v", before, after)
	}
}

// mustReconcile fails t if any wallet disagrees with the ledger.
func mustReconcile(t testing.TB, c *globaltest.Core, players ...string) {
	t.Helper()
	mm, err := c.Economy.Reconcile(context.Background(), players...)
	if err != nil {
		t.Fatal(err)
	}
	if len(mm) > 0 {
		t.Fatalf("ledger does not reconcile: %+v", mm)
	}
}

// TestRewardKeyUsedElsewhere: a player already granted under the match's
// reward key by another grant (a cell's own reward call) is not rewarded a
// second time; the others are, and the match still applies.
func TestRewardKeyUsedElsewhere(t *testing.T) {
	c := startCore(t)
	ctx := context.Background()
	a, b := c.Guest(t), c.Guest(t)
	ev := match("duel", time.Now().UTC(), result(a.ID, 0, 1, 10), result(b.ID, 1, 2, 5))
	if _, err := c.Economy.Grant(ctx, nil, economy.GrantRequest{PlayerID: a.ID, Key: matches.RewardKey(ev.SessionID), Reason: economy.ReasonReward,
		Currencies: map[string]int64{"coins": 7}, Actor: "cell:" + globaltest.CellID}); err != nil {
		t.Fatal(err)
	}
	mustApply(t, c, ev)
	for _, tc := range []struct {
		p     globaltest.Player
		coins int64
		xp    int64
	}{{a, 1007, 0}, {b, 1010, 100}} {
		w, err := c.Economy.Wallet(ctx, tc.p.ID)
		if err != nil {
			t.Fatal(err)
		}
		page, err := c.Matches.History(ctx, tc.p.ID, 10, "")
		if err != nil {
			t.Fatal(err)
		}
		if w.Balances["coins"] != tc.coins || len(page.Matches) != 1 || page.Matches[0].XP != tc.xp || page.Matches[0].Rating == nil {
			t.Fatalf("%s: wallet %v history %+v, want %d coins and %d xp", tc.p.ID, w.Balances, page.Matches, tc.coins, tc.xp)
		}
	}
	mustReconcile(t, c, a.ID, b.ID)
}

// TestApplyEvent runs the federation handler's body on raw bodies: a body
// naming another cell than its subject, or not JSON, is invalid; a good
// one applies.
func TestApplyEvent(t *testing.T) {
	c := startCore(t)
	a, b := c.Guest(t), c.Guest(t)
	ev := match("duel", time.Now().UTC(), result(a.ID, 0, 1, 10), result(b.ID, 1, 2, 5))
	body, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	run := func(cell string, data []byte) error {
		return c.DB.RunTx(context.Background(), func(ctx context.Context, tx pgx.Tx) error {
			return c.Matches.ApplyEvent(ctx, tx, cell, data)
		})
	}
	for _, tc := range []struct {
		name string
		cell string
		data []byte
	}{
		{"foreign subject", "cell-other", body},
		{"not json", globaltest.CellID, []byte("{")},
		{"trailing data", globaltest.CellID, append(append([]byte{}, body...), "{}"...)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := run(tc.cell, tc.data); !errors.Is(err, contract.ErrInvalidEvent) {
				t.Fatalf("error %v, want contract.ErrInvalidEvent", err)
			}
		})
	}
	if err := run(globaltest.CellID, body); err != nil {
		t.Fatal(err)
	}
	page, err := c.Matches.History(context.Background(), a.ID, 10, "")
	if err != nil || len(page.Matches) != 1 || page.Matches[0].MatchID != ev.SessionID {
		t.Fatalf("history after ApplyEvent: %+v %v", page, err)
	}
}
