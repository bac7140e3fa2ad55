package economy_test

import (
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/atollgg/atoll/global/economy"
	"github.com/atollgg/atoll/global/globaltest"
)

func TestAdminCatalog(t *testing.T) {
	c := startCore(t)
	p := c.Guest(t)
	admin := func(method, path string, body any) globaltest.Response {
		return c.Do(t, method, path, globaltest.AdminToken, body)
	}
	shield := economy.ItemSpec{ID: "shield_oak", Name: "Oak Shield", Category: "armor", Prices: map[string]int64{"coins": 120}, Tradable: true}

	globaltest.MustStatus(t, admin("PUT", "/admin/catalog/items/shield_oak", shield), http.StatusCreated)
	r := buy(t, c, p, "1", "shield_oak", "coins", 1)
	globaltest.MustStatus(t, r, http.StatusCreated)
	var res economy.PurchaseResult
	r.Decode(t, &res)
	if res.Price != 120 {
		t.Fatalf("price %d, want 120", res.Price)
	}
	// A price change applies to the next purchase at once.
	shield.Prices["coins"] = 80
	globaltest.MustStatus(t, admin("PUT", "/admin/catalog/items/shield_oak", shield), http.StatusOK)
	r = buy(t, c, p, "2", "shield_oak", "coins", 1)
	globaltest.MustStatus(t, r, http.StatusCreated)
	r.Decode(t, &res)
	if res.Price != 80 {
		t.Fatalf("price after change %d, want 80", res.Price)
	}

	// Sale windows.
	future := time.Now().Add(time.Hour)
	shield.SaleStart = &future
	globaltest.MustStatus(t, admin("PUT", "/admin/catalog/items/shield_oak", shield), http.StatusOK)
	if r = buy(t, c, p, "3", "shield_oak", "coins", 1); r.ErrorCode() != economy.CodeNotOnSale {
		t.Fatalf("before the sale: %d %s", r.Status, r.Body)
	}

	// Stock sells out.
	globaltest.MustStatus(t, admin("PUT", "/admin/catalog/items/hat_wizard/stock", economy.StockRequest{Remaining: new(int64(1))}), http.StatusOK)
	globaltest.MustStatus(t, buy(t, c, p, "4", "hat_wizard", "coins", 1), http.StatusCreated)
	if r = buy(t, c, p, "5", "hat_wizard", "coins", 1); r.Status != http.StatusConflict || r.ErrorCode() != economy.CodeSoldOut {
		t.Fatalf("sold out: %d %s", r.Status, r.Body)
	}
	// The retry of the purchase that took the last one still answers.
	globaltest.MustStatus(t, buy(t, c, p, "4", "hat_wizard", "coins", 1), http.StatusCreated)
	globaltest.MustStatus(t, admin("PUT", "/admin/catalog/items/hat_wizard/stock", economy.StockRequest{}), http.StatusOK)
	globaltest.MustStatus(t, buy(t, c, p, "6", "hat_wizard", "coins", 1), http.StatusCreated)

	// Retiring an item stops sales; inventories still name it.
	if r = admin("DELETE", "/admin/catalog/items/shield_oak", nil); r.Status != http.StatusNoContent {
		t.Fatalf("retire: %d %s", r.Status, r.Body)
	}
	if r = buy(t, c, p, "7", "shield_oak", "coins", 1); r.ErrorCode() != economy.CodeNotOnSale {
		t.Fatalf("retired item sold: %d %s", r.Status, r.Body)
	}
	r = c.Do(t, "GET", "/store/catalog", "", nil)
	var cat economy.CatalogResponse
	r.Decode(t, &cat)
	for _, it := range cat.Items {
		if it.ID == "shield_oak" {
			t.Fatal("retired item still in the store")
		}
	}
	r = admin("GET", "/admin/catalog", nil)
	globaltest.MustStatus(t, r, http.StatusOK)
	var ac economy.AdminCatalog
	r.Decode(t, &ac)
	found := false
	for _, it := range ac.Items {
		if it.ID == "shield_oak" && !it.Active {
			found = true
		}
		if it.ID == "crown_founders" && (it.StockRemaining == nil || *it.StockRemaining != 1000) {
			t.Fatalf("seeded stock: %+v", it)
		}
	}
	if !found {
		t.Fatal("retired item missing from the admin catalog")
	}

	for _, tc := range []struct {
		name, method, path string
		body               any
		status             int
	}{
		{"unknown currency", "PUT", "/admin/catalog/items/x1", economy.ItemSpec{Name: "X", Category: "misc", Prices: map[string]int64{"gold": 1}}, http.StatusBadRequest},
		{"id mismatch", "PUT", "/admin/catalog/items/x2", economy.ItemSpec{ID: "x3", Name: "X", Category: "misc"}, http.StatusBadRequest},
		{"stock via put", "PUT", "/admin/catalog/items/x4", economy.ItemSpec{Name: "X", Category: "misc", Stock: new(int64(3))}, http.StatusBadRequest},
		{"bad id", "PUT", "/admin/catalog/items/BAD%20ID", economy.ItemSpec{Name: "X", Category: "misc"}, http.StatusBadRequest},
		{"sale end before start", "PUT", "/admin/catalog/items/x5", economy.ItemSpec{Name: "X", Category: "misc", SaleStart: &future, SaleEnd: new(time.Now())}, http.StatusBadRequest},
		{"negative stock", "PUT", "/admin/catalog/items/arrow/stock", economy.StockRequest{Remaining: new(int64(-1))}, http.StatusBadRequest},
		{"stock of unknown", "PUT", "/admin/catalog/items/nope/stock", economy.StockRequest{Remaining: new(int64(1))}, http.StatusNotFound},
		{"retire unknown", "DELETE", "/admin/catalog/items/nope", nil, http.StatusNotFound},
		{"stackable switch", "PUT", "/admin/catalog/items/arrow", economy.ItemSpec{Name: "Arrow", Category: "ammo"}, http.StatusConflict},
		{"lookup unknown", "GET", "/admin/players/00000000-0000-4000-8000-000000000002/economy", nil, http.StatusNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if r := admin(tc.method, tc.path, tc.body); r.Status != tc.status {
				t.Fatalf("status %d, want %d: %s", r.Status, tc.status, r.Body)
			}
		})
	}
	if r = c.Do(t, "GET", "/admin/catalog", p.Access, nil); r.Status != http.StatusUnauthorized {
		t.Fatalf("player on the admin API: %d", r.Status)
	}

	// Support lookup.
	r = admin("GET", "/admin/players/"+p.ID+"/economy", nil)
	globaltest.MustStatus(t, r, http.StatusOK)
	var pe economy.PlayerEconomy
	r.Decode(t, &pe)
	if pe.PlayerID != p.ID || pe.Wallet.Balances["coins"] != 1000-120-80-250-250 || len(pe.Inventory) != 4 || len(pe.Transactions) != 5 || len(pe.Mismatches) != 0 {
		t.Fatalf("lookup: %+v", pe)
	}
	// Every admin call past authentication left an audit row.
	if n := count(t, c, `SELECT count(*) FROM audit_log WHERE kind = 'admin.action'`); n != 18 {
		t.Fatalf("%d admin audit rows, want 18 (8 changes and reads, 10 refusals)", n)
	}
	mustReconcile(t, c, p.ID)
}

func TestLimitedStockUnderConcurrency(t *testing.T) {
	c := startCore(t)
	const buyers, stock = 12, 5
	globaltest.MustStatus(t, c.Do(t, "PUT", "/admin/catalog/items/sword_wooden/stock", globaltest.AdminToken,
		economy.StockRequest{Remaining: new(int64(stock))}), http.StatusOK)
	players := make([]globaltest.Player, buyers)
	for i := range players {
		players[i] = c.Guest(t)
		wallet(t, c, players[i])
	}
	var wg sync.WaitGroup
	results := make([]globaltest.Response, buyers)
	for i := range buyers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = buy(t, c, players[i], fmt.Sprint(i), "sword_wooden", "coins", 1)
		}()
	}
	wg.Wait()
	sold := 0
	for i, r := range results {
		switch {
		case r.Status == http.StatusCreated:
			sold++
		case r.ErrorCode() != economy.CodeSoldOut:
			t.Fatalf("buyer %d: %d %s", i, r.Status, r.Body)
		}
	}
	if sold != stock {
		t.Fatalf("sold %d of a stock of %d", sold, stock)
	}
	if n := count(t, c, `SELECT remaining FROM item_stock WHERE item_template_id = 'sword_wooden'`); n != 0 {
		t.Fatalf("remaining stock %d, want 0", n)
	}
	mustReconcile(t, c)
}
