package economy_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/atollgg/atoll/global"
	"github.com/atollgg/atoll/global/economy"
	"github.com/atollgg/atoll/global/globaltest"
	"github.com/atollgg/atoll/internal/dbtest"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

// startCore runs a core with the development payment provider.
func startCore(t testing.TB, mutate ...func(*global.Config)) *globaltest.Core {
	t.Helper()
	return globaltest.Start(t, append([]func(*global.Config){func(c *global.Config) { c.Payments.Provider = "dev" }}, mutate...)...)
}

// buy sends POST /store/purchase.
func buy(t testing.TB, c *globaltest.Core, p globaltest.Player, key, item, currency string, qty int64) globaltest.Response {
	t.Helper()
	return c.Do(t, "POST", "/store/purchase", p.Access, economy.PurchaseRequest{ItemTemplateID: item, Quantity: qty, Currency: currency},
		economy.IdempotencyHeader, key)
}

func wallet(t testing.TB, c *globaltest.Core, p globaltest.Player) economy.Balances {
	t.Helper()
	r := c.Do(t, "GET", "/wallet", p.Access, nil)
	globaltest.MustStatus(t, r, http.StatusOK)
	var b economy.Balances
	r.Decode(t, &b)
	return b
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

// count runs a count(*) query.
func count(t testing.TB, c *globaltest.Core, sql string, args ...any) int64 {
	t.Helper()
	var n int64
	if err := c.DB.Pool.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return n
}
