package economy_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/atollgg/atoll/global/economy"
	"github.com/atollgg/atoll/global/globaltest"
)

func TestCatalogAndStartingBalance(t *testing.T) {
	c := startCore(t)
	r := c.Do(t, "GET", "/store/catalog", "", nil)
	globaltest.MustStatus(t, r, http.StatusOK)
	var cat economy.CatalogResponse
	r.Decode(t, &cat)
	byID := map[string]economy.CatalogItem{}
	for _, it := range cat.Items {
		byID[it.ID] = it
	}
	// Every advertised starter item is on sale for coins within the
	// starting balance.
	for _, id := range economy.DevStarterItems {
		it, ok := byID[id]
		if !ok || !it.OnSale || it.Prices["coins"] <= 0 || it.Prices["coins"] > 1000 {
			t.Fatalf("starter item %s: %+v", id, it)
		}
	}
	if it := byID["badge_beta"]; it.OnSale || len(it.Prices) != 0 {
		t.Fatalf("badge_beta should be listed but unpurchasable: %+v", it)
	}
	if len(cat.TopUps) == 0 || cat.TopUps[0].Currency != "gems" {
		t.Fatalf("top-ups: %+v", cat.TopUps)
	}

	p := c.Guest(t)
	// The wallet is created lazily with the starting balances, once.
	for range 2 {
		b := wallet(t, c, p)
		if b.Balances["coins"] != 1000 || b.Balances["gems"] != 0 || len(b.Balances) != 2 || b.Debts != nil {
			t.Fatalf("new wallet: %+v", b)
		}
	}
	if n := count(t, c, `SELECT count(*) FROM transactions WHERE player_id = $1`, p.ID); n != 1 {
		t.Fatalf("starting balance ledger rows = %d, want 1 (coins only; zero balances need none)", n)
	}
	mustReconcile(t, c, p.ID)
}

func TestPurchase(t *testing.T) {
	c := startCore(t)
	p := c.Guest(t)
	rich := c.Guest(t)
	if _, err := c.Economy.Grant(context.Background(), nil, economy.GrantRequest{PlayerID: rich.ID, Key: "seed", Reason: economy.ReasonGrant,
		Currencies: map[string]int64{"coins": 10000}, Actor: "system"}); err != nil {
		t.Fatal(err)
	}

	// First economy access is a purchase: the wallet is created on the way.
	r := buy(t, c, p, "k1", "sword_wooden", "coins", 2)
	globaltest.MustStatus(t, r, http.StatusCreated)
	var first economy.PurchaseResult
	r.Decode(t, &first)
	if first.Price != 200 || first.Balance != 800 || len(first.InventoryItemIDs) != 2 || first.Quantity != 2 {
		t.Fatalf("purchase: %+v", first)
	}

	// A retry answers the same, charges nothing.
	r = buy(t, c, p, "k1", "sword_wooden", "coins", 2)
	globaltest.MustStatus(t, r, http.StatusCreated)
	var again economy.PurchaseResult
	r.Decode(t, &again)
	if r.Header.Get(economy.ReplayedHeader) != "true" || again.TransactionID != first.TransactionID || again.Balance != 800 ||
		again.InventoryItemIDs[1] != first.InventoryItemIDs[1] {
		t.Fatalf("replay: %+v (header %q), first %+v", again, r.Header.Get(economy.ReplayedHeader), first)
	}
	if b := wallet(t, c, p); b.Balances["coins"] != 800 {
		t.Fatalf("balance after replay = %d, want 800", b.Balances["coins"])
	}

	// Stackables land in one stack.
	for i, key := range []string{"k2", "k3"} {
		r = buy(t, c, p, key, "potion_health", "coins", 5)
		globaltest.MustStatus(t, r, http.StatusCreated)
		var res economy.PurchaseResult
		r.Decode(t, &res)
		if res.InventoryItemIDs[0] != economy.StackID(p.ID, "potion_health") || res.Balance != int64(800-50*(i+1)) {
			t.Fatalf("stack purchase %d: %+v", i, res)
		}
	}

	cases := []struct {
		name, key, item, currency string
		qty                       int64
		status                    int
		code                      string
	}{
		{"same key different body", "k1", "sword_wooden", "coins", 1, http.StatusConflict, economy.CodeKeyReused},
		{"insufficient funds", "k4", "skin_dragon", "gems", 1, http.StatusConflict, economy.CodeInsufficientFunds},
		{"unknown item", "k5", "no_such_item", "coins", 1, http.StatusNotFound, economy.CodeUnknownItem},
		{"unpurchasable", "k6", "badge_beta", "coins", 1, http.StatusConflict, economy.CodeNotOnSale},
		{"wrong currency", "k7", "sword_wooden", "gems", 1, http.StatusConflict, economy.CodeNotOnSale},
		{"over max stack", "k8", "potion_health", "coins", 100, http.StatusConflict, economy.CodeStackFull},
		{"unknown currency", "k10", "sword_wooden", "bitcoin", 1, http.StatusBadRequest, "invalid_argument"},
		{"zero quantity means one, negative is bad", "k11", "sword_wooden", "coins", -1, http.StatusBadRequest, "invalid_argument"},
		{"per-player limit", "k12", "banner_starter", "coins", 2, http.StatusConflict, economy.CodeLimitReached},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := wallet(t, c, p).Balances["coins"]
			rows := count(t, c, `SELECT count(*) FROM transactions WHERE player_id = $1`, p.ID)
			r := buy(t, c, p, tc.key, tc.item, tc.currency, tc.qty)
			if r.Status != tc.status || r.ErrorCode() != tc.code {
				t.Fatalf("status %d code %q, want %d %q: %s", r.Status, r.ErrorCode(), tc.status, tc.code, r.Body)
			}
			if after := wallet(t, c, p).Balances["coins"]; after != before {
				t.Fatalf("a failed purchase changed the balance: %d -> %d", before, after)
			}
			if n := count(t, c, `SELECT count(*) FROM transactions WHERE player_id = $1`, p.ID); n != rows {
				t.Fatalf("a failed purchase wrote %d ledger rows", n-rows)
			}
		})
	}
	if n := count(t, c, `SELECT quantity FROM inventory_items WHERE id = $1`, economy.StackID(p.ID, "potion_health")); n != 10 {
		t.Fatalf("potion stack = %d, want 10 (failed purchases must not add)", n)
	}

	// A full stack refuses more and the debit rolls back with it.
	globaltest.MustStatus(t, buy(t, c, rich, "s1", "potion_health", "coins", 60), http.StatusCreated)
	r = buy(t, c, rich, "s2", "potion_health", "coins", 40)
	if r.Status != http.StatusConflict || r.ErrorCode() != economy.CodeStackFull {
		t.Fatalf("overflowing stack: %d %s", r.Status, r.Body)
	}
	if b := wallet(t, c, rich).Balances["coins"]; b != 10000+1000-600 {
		t.Fatalf("balance after refused overflow = %d, want %d", b, 10000+1000-600)
	}

	// The per-player limit admits exactly one banner.
	globaltest.MustStatus(t, buy(t, c, p, "b1", "banner_starter", "coins", 1), http.StatusCreated)
	r = buy(t, c, p, "b2", "banner_starter", "coins", 1)
	if r.Status != http.StatusConflict || r.ErrorCode() != economy.CodeLimitReached {
		t.Fatalf("second banner: %d %s", r.Status, r.Body)
	}
	// …and a retry of the first is still answered, not refused by the limit.
	globaltest.MustStatus(t, buy(t, c, p, "b1", "banner_starter", "coins", 1), http.StatusCreated)

	// Missing or bad keys and bodies.
	r = c.Do(t, "POST", "/store/purchase", p.Access, economy.PurchaseRequest{ItemTemplateID: "arrow", Currency: "coins"})
	if r.Status != http.StatusBadRequest {
		t.Fatalf("no idempotency key: %d", r.Status)
	}
	r = c.Do(t, "POST", "/store/purchase", p.Access, []byte(`{"item_template_id":"arrow","currency":"coins","price":0}`), economy.IdempotencyHeader, "x")
	if r.Status != http.StatusBadRequest {
		t.Fatalf("unknown field: %d %s", r.Status, r.Body)
	}
	r = c.Do(t, "POST", "/store/purchase", "", economy.PurchaseRequest{ItemTemplateID: "arrow", Currency: "coins"}, economy.IdempotencyHeader, "x")
	if r.Status != http.StatusUnauthorized {
		t.Fatalf("no token: %d", r.Status)
	}

	// The ledger lists everything, newest first, by cursor.
	var all []economy.Transaction
	cur := ""
	for {
		r = c.Do(t, "GET", "/wallet/transactions?limit=2&cursor="+cur, p.Access, nil)
		globaltest.MustStatus(t, r, http.StatusOK)
		var page economy.TransactionPage
		r.Decode(t, &page)
		all = append(all, page.Transactions...)
		if page.NextCursor == "" {
			break
		}
		cur = page.NextCursor
	}
	// starting balance, 2 swords, 2 potion buys, 1 banner
	if len(all) != 5 || all[4].IdempotencyKey != "starting-balance" || all[3].IdempotencyKey != "k1" || all[0].ItemID == nil || *all[0].ItemID != "banner_starter" {
		t.Fatalf("ledger: %+v", all)
	}
	r = c.Do(t, "GET", "/wallet/transactions?cursor=garbage", p.Access, nil)
	if r.Status != http.StatusBadRequest {
		t.Fatalf("bad cursor: %d", r.Status)
	}
	mustReconcile(t, c, p.ID, rich.ID)
}
