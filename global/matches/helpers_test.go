package matches_test

import (
	"context"
	"testing"
	"time"

	"github.com/atollgg/atoll/contract"
	"github.com/atollgg/atoll/global"
	"github.com/atollgg/atoll/global/globaltest"
	"github.com/atollgg/atoll/global/matches"
	"github.com/atollgg/atoll/internal/dbtest"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

// testRewards are the rules the tests' core runs with.
const testRewards = "duel:xp=100,coins=10,win.xp=50,win.coins=20;" +
	"ffa4:xp=40,coins=5,place1.coins=30,place2.coins=15,place1.xp=60;" +
	"*:xp=10"

// startCore runs a core with testRewards.
func startCore(t testing.TB) *globaltest.Core {
	t.Helper()
	rw, err := matches.ParseRewards(testRewards)
	if err != nil {
		t.Fatal(err)
	}
	return globaltest.Start(t, func(c *global.Config) { c.Matches.Rewards = rw })
}

// apply runs the applier in its own transaction, as the federation does.
func apply(t testing.TB, c *globaltest.Core, ev contract.MatchCompleted) error {
	t.Helper()
	return c.DB.RunTx(context.Background(), func(ctx context.Context, tx pgx.Tx) error {
		return c.Matches.ApplyMatchCompleted(ctx, tx, ev)
	})
}

// mustApply fails t unless the event applies.
func mustApply(t testing.TB, c *globaltest.Core, ev contract.MatchCompleted) {
	t.Helper()
	if err := apply(t, c, ev); err != nil {
		t.Fatalf("apply %s: %v", ev.SessionID, err)
	}
}

// match builds a match.completed event of mode that ended at end.
func match(mode string, end time.Time, players ...contract.PlayerResult) contract.MatchCompleted {
	return contract.MatchCompleted{CellID: globaltest.CellID, Region: "eu-west", SessionID: uuid.NewString(), GameMode: mode,
		StartedAt: end.Add(-10 * time.Minute), EndedAt: end, Players: players}
}

// result is one player's result on a team with a placement.
func result(id string, team, placement, score int) contract.PlayerResult {
	return contract.PlayerResult{PlayerID: id, Team: team, Placement: placement, Score: score, Kills: score / 10, Deaths: 1, TimePlayedS: 600}
}

// state is every row the applier may touch for some players, to compare
// before and after a replay.
type state struct {
	XP, Levels, Wallets, Ratings, History, Ledger, Requests, Audit, Matches string
}

func snapshot(t testing.TB, c *globaltest.Core, ids ...string) state {
	t.Helper()
	q := func(sql string) string {
		var s *string
		if err := c.DB.Pool.QueryRow(context.Background(), sql, ids).Scan(&s); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
		if s == nil {
			return ""
		}
		return *s
	}
	return state{
		XP:       q(`SELECT string_agg(id::TEXT || '=' || xp::TEXT, ',' ORDER BY id) FROM players WHERE id = ANY($1::UUID[])`),
		Levels:   q(`SELECT string_agg(id::TEXT || '=' || player_level::TEXT, ',' ORDER BY id) FROM players WHERE id = ANY($1::UUID[])`),
		Wallets:  q(`SELECT string_agg(player_id::TEXT || currency || balance::TEXT, ',' ORDER BY player_id, currency) FROM wallets WHERE player_id = ANY($1::UUID[])`),
		Ratings:  q(`SELECT string_agg(player_id::TEXT || mode || rating::TEXT || rd::TEXT || volatility::TEXT || games::TEXT, ',' ORDER BY player_id, mode) FROM ratings WHERE player_id = ANY($1::UUID[])`),
		History:  q(`SELECT string_agg(match_id::TEXT || player_id::TEXT || xp::TEXT || rewards::TEXT, ',' ORDER BY match_id, player_id) FROM match_participants WHERE player_id = ANY($1::UUID[])`),
		Ledger:   q(`SELECT count(*)::TEXT FROM transactions WHERE player_id = ANY($1::UUID[])`),
		Requests: q(`SELECT count(*)::TEXT FROM economy_requests WHERE player_id = ANY($1::UUID[])`),
		Audit:    q(`SELECT count(*)::TEXT FROM audit_log WHERE player_id = ANY($1::UUID[])`),
		Matches:  q(`SELECT count(*)::TEXT FROM matches WHERE $1::UUID[] IS NOT NULL`),
	}
}
