package ratings_test

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/atollgg/atoll/global/globaltest"
	"github.com/atollgg/atoll/global/ratings"
	"github.com/atollgg/atoll/internal/obs"
	"github.com/jackc/pgx/v5"
)

// TestRateMatchIdleInflation rates a duel between a player idle for 100
// periods and one who just played, with IdlePeriod set: the idle player's
// deviation grows before the update (Inflate), the other's does not.
func TestRateMatchIdleInflation(t *testing.T) {
	core := globaltest.Start(t)
	ctx := context.Background()
	a, b := core.Guest(t), core.Guest(t)
	if _, err := core.DB.Pool.Exec(ctx, `INSERT INTO ratings (player_id, mode, rating, rd, volatility, games, updated_at)
		VALUES ($1, 'duel', 1600, 50, 0.06, 30, now() - INTERVAL '100 days'), ($2, 'duel', 1550, 60, 0.05, 12, now())`, a.ID, b.ID); err != nil {
		t.Fatal(err)
	}
	svc, err := ratings.New(ratings.Config{DB: core.DB, Log: obs.Discard(), IdlePeriod: 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]ratings.Change
	if err := core.DB.RunTx(ctx, func(ctx context.Context, tx pgx.Tx) (err error) {
		got, err = svc.RateMatch(ctx, tx, "duel", []ratings.Side{{Rank: 2, Players: []string{a.ID}}, {Rank: 1, Players: []string{b.ID}}}, []string{a.ID, b.ID})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	idleA := ratings.Inflate(ratings.Glicko{Rating: 1600, RD: 50, Volatility: 0.06}, 100)
	freshB := ratings.Glicko{Rating: 1550, RD: 60, Volatility: 0.05}
	wantA, _ := ratings.Update(idleA, []ratings.Result{{Opponent: freshB, Score: 0}}, 0)
	wantB, _ := ratings.Update(freshB, []ratings.Result{{Opponent: idleA, Score: 1}}, 0)
	// The database's clock moves between the insert and the update: a few
	// milliseconds of 100 days, far below this tolerance.
	near := func(x, y float64) bool { return math.Abs(x-y) < 1e-3 }
	ga, gb := got[a.ID], got[b.ID]
	if idleA.RD <= 100 || !near(ga.Before.RD, idleA.RD) || !near(ga.After.Rating, wantA.Rating) || !near(ga.After.RD, wantA.RD) || ga.Games != 31 {
		t.Fatalf("idle player: %+v, want before RD %.3f, after %+v, 31 games", ga, idleA.RD, wantA)
	}
	if !near(gb.Before.RD, 60) || !near(gb.After.Rating, wantB.Rating) || !near(gb.After.RD, wantB.RD) || gb.Games != 13 {
		t.Fatalf("active player: %+v, want after %+v, 13 games", gb, wantB)
	}
	var rd float64
	var games int
	if err := core.DB.Pool.QueryRow(ctx, `SELECT rd, games FROM ratings WHERE player_id = $1 AND mode = 'duel'`, a.ID).Scan(&rd, &games); err != nil {
		t.Fatal(err)
	}
	if !near(rd, wantA.RD) || games != 31 {
		t.Fatalf("stored rd %f games %d", rd, games)
	}
}
