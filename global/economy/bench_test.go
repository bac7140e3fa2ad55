package economy_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/atollgg/atoll/global/economy"
	"github.com/atollgg/atoll/global/globaltest"
)

// benchPlayers is how many players buy concurrently, one goroutine each.
const benchPlayers = 64

// BenchmarkPurchaseHTTP measures purchases per second over HTTP: 64
// players, each on its own goroutine and keep-alive connection, buy with
// fresh idempotency keys. Afterwards every wallet must reconcile with the
// ledger and the ledger must hold exactly one row per purchase.
//
//	go test -run '^$' -bench BenchmarkPurchaseHTTP -benchtime 20000x ./global/economy/
func BenchmarkPurchaseHTTP(b *testing.B) {
	c := startCore(b)
	ctx := context.Background()
	players := make([]globaltest.Player, benchPlayers)
	ids := make([]string, benchPlayers)
	for i := range players {
		players[i] = c.Guest(b)
		ids[i] = players[i].ID
		if _, err := c.Economy.Grant(ctx, nil, economy.GrantRequest{PlayerID: players[i].ID, Key: "bench-funds", Reason: economy.ReasonGrant,
			Currencies: map[string]int64{"coins": 1_000_000_000}, Actor: "system"}); err != nil {
			b.Fatal(err)
		}
	}
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConns: 2 * benchPlayers, MaxIdleConnsPerHost: 2 * benchPlayers}}
	defer client.CloseIdleConnections()
	body := []byte(`{"item_template_id":"arrow","quantity":1,"currency":"coins"}`)
	var next, failures, done atomic.Int64
	var firstErr atomic.Value

	b.SetParallelism((benchPlayers + 1) / 2) // GOMAXPROCS is 2 here: 64 goroutines
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := int(next.Add(1)-1) % benchPlayers
		p := players[i]
		n := 0
		for pb.Next() {
			n++
			req, _ := http.NewRequest("POST", c.URL+"/store/purchase", bytes.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+p.Access)
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set(economy.IdempotencyHeader, fmt.Sprintf("bench-%d-%d-%d", b.N, i, n))
			resp, err := client.Do(req)
			if err != nil {
				failures.Add(1)
				firstErr.CompareAndSwap(nil, err.Error())
				continue
			}
			msg, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusCreated {
				failures.Add(1)
				firstErr.CompareAndSwap(nil, fmt.Sprintf("%d %s", resp.StatusCode, msg))
				continue
			}
			done.Add(1)
		}
	})
	b.StopTimer()
	b.ReportMetric(float64(done.Load())/b.Elapsed().Seconds(), "purchases/s")
	if f := failures.Load(); f > 0 {
		b.Fatalf("%d purchases failed, first: %v", f, firstErr.Load())
	}
	mm, err := c.Economy.Reconcile(ctx)
	if err != nil || len(mm) > 0 {
		b.Fatalf("ledger does not reconcile after the benchmark: %+v %v", mm, err)
	}
	var rows, arrows int64
	if err := c.DB.Pool.QueryRow(ctx, `SELECT count(*) FROM transactions WHERE reason = 'purchase' AND idempotency_key LIKE $1`,
		fmt.Sprintf("bench-%d-%%", b.N)).Scan(&rows); err != nil {
		b.Fatal(err)
	}
	if err := c.DB.Pool.QueryRow(ctx, `SELECT COALESCE(sum(quantity), 0) FROM inventory_items WHERE item_template_id = 'arrow'`).Scan(&arrows); err != nil {
		b.Fatal(err)
	}
	if rows != done.Load() {
		b.Fatalf("%d ledger rows for %d successful purchases", rows, done.Load())
	}
	if arrows != rows {
		b.Fatalf("%d arrows granted for %d purchases", arrows, rows)
	}
}
