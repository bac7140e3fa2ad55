package leaderboard_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/atollgg/atoll/contract"
	"github.com/atollgg/atoll/global/leaderboard"
	"github.com/atollgg/atoll/global/schema"
	"github.com/atollgg/atoll/internal/db"
	"github.com/atollgg/atoll/internal/dbtest"
	"github.com/atollgg/atoll/internal/obs"
	"github.com/atollgg/atoll/internal/tokens"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// benchPlayersPerMatch is a 5v5 match: ten score rows per board per event.
const benchPlayersPerMatch = 10

// BenchmarkPersistedWrites is the global path end to end for one board:
// each op is one match.completed (10 players) applied in its own
// serializable transaction (applied-rows plus score upserts, one batch)
// and the after-commit re-read into the in-memory index. writes/s counts
// player score writes. Run in parallel to load the pool:
//
//	go test -run '^$' -bench PersistedWrites -benchtime 3000x -cpu 1,8 ./global/leaderboard/
func BenchmarkPersistedWrites(b *testing.B) {
	ctx := context.Background()
	d, err := db.Open(ctx, db.Config{URL: dbtest.URL(b)})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(d.Close)
	if err := schema.Apply(ctx, d); err != nil {
		b.Fatal(err)
	}
	v, err := tokens.NewVerifier(tokens.VerifierConfig{Keys: tokens.StaticKeys{}, Issuer: "i", Audience: "a"})
	if err != nil {
		b.Fatal(err)
	}
	s, err := leaderboard.New(ctx, leaderboard.Config{DB: d, Verifier: v, Log: obs.Discard(), Definitions: []contract.LeaderboardDefinition{
		{Name: "kills", Operator: contract.OperatorIncrement, Scope: contract.ScopeGlobal, Field: contract.FieldKills},
	}})
	if err != nil {
		b.Fatal(err)
	}
	pool := make([]string, 100_000)
	for i := range pool {
		pool[i] = uuid.NewString()
	}
	var seq atomicCounter
	now := time.Now()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			n := seq.next()
			ev := contract.MatchCompleted{SessionID: fmt.Sprintf("bench-%d", n), GameMode: "5v5", EndedAt: now.Add(time.Duration(n) * time.Microsecond)}
			for j := range benchPlayersPerMatch {
				ev.Players = append(ev.Players, contract.PlayerResult{PlayerID: pool[(n*benchPlayersPerMatch+j*7919)%len(pool)], Kills: j})
			}
			if err := d.RunTx(ctx, func(ctx context.Context, tx pgx.Tx) error { return s.ApplyMatchCompleted(ctx, tx, ev) }); err != nil {
				b.Error(err)
				return
			}
			if err := s.AfterMatchCompleted(ctx, ev); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N*benchPlayersPerMatch)/b.Elapsed().Seconds(), "writes/s")
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "matches/s")
}

type atomicCounter struct{ n atomic.Int64 }

func (c *atomicCounter) next() int { return int(c.n.Add(1)) }
