package economy_test

import (
	"fmt"
	"net/http"
	"sync"
	"testing"

	"github.com/atollgg/atoll/global/economy"
	"github.com/atollgg/atoll/global/globaltest"
)

// racers is how many purchases race on one wallet.
const racers = 64

func TestConcurrentPurchasesNeverOverdraw(t *testing.T) {
	c := startCore(t)
	p := c.Guest(t)
	start := wallet(t, c, p).Balances["coins"] // 1000: room for 10 swords at 100
	const price = 100

	var wg sync.WaitGroup
	statuses := make([]globaltest.Response, racers)
	for i := range racers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			statuses[i] = buy(t, c, p, fmt.Sprintf("race-%d", i), "sword_wooden", "coins", 1)
		}()
	}
	wg.Wait()
	ok := 0
	for i, r := range statuses {
		switch {
		case r.Status == http.StatusCreated:
			ok++
		case r.Status == http.StatusConflict && r.ErrorCode() == economy.CodeInsufficientFunds:
		default:
			t.Fatalf("purchase %d: %d %s", i, r.Status, r.Body)
		}
	}
	if want := int(start / price); ok != want {
		t.Fatalf("%d purchases succeeded, want exactly %d", ok, want)
	}
	b := wallet(t, c, p)
	if b.Balances["coins"] != start-int64(ok)*price || b.Balances["coins"] < 0 {
		t.Fatalf("balance %d after %d purchases from %d", b.Balances["coins"], ok, start)
	}
	if n := count(t, c, `SELECT count(*) FROM inventory_items WHERE player_id = $1 AND item_template_id = 'sword_wooden'`, p.ID); n != int64(ok) {
		t.Fatalf("%d swords in the inventory, want %d", n, ok)
	}
	if n := count(t, c, `SELECT count(*) FROM transactions WHERE player_id = $1 AND reason = 'purchase'`, p.ID); n != int64(ok) {
		t.Fatalf("%d purchase ledger rows, want %d", n, ok)
	}
	mustReconcile(t, c, p.ID)
}

func TestSameKeyConcurrentlyChargesOnce(t *testing.T) {
	c := startCore(t)
	p := c.Guest(t)
	wallet(t, c, p)
	const senders = 16
	var wg sync.WaitGroup
	results := make([]globaltest.Response, senders)
	for i := range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = buy(t, c, p, "one-key", "hat_wizard", "coins", 1)
		}()
	}
	wg.Wait()
	var first economy.PurchaseResult
	replays := 0
	for i, r := range results {
		globaltest.MustStatus(t, r, http.StatusCreated)
		var res economy.PurchaseResult
		r.Decode(t, &res)
		if i == 0 {
			first = res
		}
		if res.TransactionID != first.TransactionID || res.Balance != 750 || res.InventoryItemIDs[0] != first.InventoryItemIDs[0] {
			t.Fatalf("sender %d got %+v, sender 0 got %+v", i, res, first)
		}
		if r.Header.Get(economy.ReplayedHeader) == "true" {
			replays++
		}
	}
	if replays != senders-1 {
		t.Fatalf("%d answers were replays, want %d", replays, senders-1)
	}
	if b := wallet(t, c, p).Balances["coins"]; b != 750 {
		t.Fatalf("balance %d, want 750: charged more than once", b)
	}
	if n := count(t, c, `SELECT count(*) FROM inventory_items WHERE player_id = $1`, p.ID); n != 1 {
		t.Fatalf("%d hats, want 1", n)
	}
	mustReconcile(t, c, p.ID)
}

// TestSameKeyRetryRacingTheLastCoins: when the first purchase takes the
// last coins, a same-key retry racing it must get the first purchase's
// answer, not 409 insufficient funds (on PostgreSQL the retry's statement
// waits on the wallet row, then finds too little money and, in its older
// snapshot, no key yet).
func TestSameKeyRetryRacingTheLastCoins(t *testing.T) {
	c := startCore(t)
	const rounds, senders = 8, 8
	for round := range rounds {
		p := c.Guest(t)
		// 1000 coins: three hats at 250 leave exactly one more.
		for i := range 3 {
			globaltest.MustStatus(t, buy(t, c, p, fmt.Sprint("hat-", i), "hat_wizard", "coins", 1), http.StatusCreated)
		}
		var wg sync.WaitGroup
		results := make([]globaltest.Response, senders)
		for i := range senders {
			wg.Add(1)
			go func() {
				defer wg.Done()
				results[i] = buy(t, c, p, "last-hat", "hat_wizard", "coins", 1)
			}()
		}
		wg.Wait()
		var first economy.PurchaseResult
		for i, r := range results {
			if r.Status != http.StatusCreated {
				t.Fatalf("round %d sender %d: %d %s, want the first purchase's answer", round, i, r.Status, r.Body)
			}
			var res economy.PurchaseResult
			r.Decode(t, &res)
			if i == 0 {
				first = res
			}
			if res.TransactionID != first.TransactionID || res.Balance != 0 {
				t.Fatalf("round %d sender %d got %+v, sender 0 got %+v", round, i, res, first)
			}
		}
		if b := wallet(t, c, p).Balances["coins"]; b != 0 {
			t.Fatalf("round %d: balance %d, want 0", round, b)
		}
		mustReconcile(t, c, p.ID)
	}
}
