package economy_test

import (
	"context"
	"net/http"
	"reflect"
	"sync/atomic"
	"testing"
	"time"

	"github.com/atollgg/atoll/global/economy"
	"github.com/atollgg/atoll/global/globaltest"
	"github.com/atollgg/atoll/internal/obs"
)

func TestSettings(t *testing.T) {
	cs, err := economy.ParseCurrencies("coins, gems:premium ,")
	if err != nil || !reflect.DeepEqual(cs, []economy.Currency{{Code: "coins"}, {Code: "gems", Premium: true}}) {
		t.Fatalf("ParseCurrencies: %+v %v", cs, err)
	}
	for _, bad := range []string{"Coins", "gems:vip", "a b"} {
		if _, err := economy.ParseCurrencies(bad); err == nil {
			t.Errorf("ParseCurrencies(%q) accepted", bad)
		}
	}
	am, err := economy.ParseAmounts("coins=1000, gems=0")
	if err != nil || am["coins"] != 1000 || am["gems"] != 0 || len(am) != 2 {
		t.Fatalf("ParseAmounts: %v %v", am, err)
	}
	for _, bad := range []string{"coins", "coins=-1", "coins=x"} {
		if _, err := economy.ParseAmounts(bad); err == nil {
			t.Errorf("ParseAmounts(%q) accepted", bad)
		}
	}
	if th, err := economy.ParseThresholds("100,300,600"); err != nil || len(th) != 3 {
		t.Fatalf("ParseThresholds: %v %v", th, err)
	}
	for _, bad := range []string{"100,50", "0", "x"} {
		if _, err := economy.ParseThresholds(bad); err == nil {
			t.Errorf("ParseThresholds(%q) accepted", bad)
		}
	}
	for _, tc := range []struct {
		s  economy.Settings
		ok bool
	}{
		{economy.Settings{}, true},
		{economy.Settings{Currencies: []economy.Currency{{Code: "gold"}}, StartingBalances: map[string]int64{"gold": 5}}, true},
		{economy.Settings{Currencies: []economy.Currency{{Code: "gold"}, {Code: "gold"}}}, false},
		{economy.Settings{StartingBalances: map[string]int64{"silver": 5}, Currencies: []economy.Currency{{Code: "gold"}}}, false},
		{economy.Settings{XPThresholds: []int64{5, 5}}, false},
		{economy.Settings{CatalogRefresh: time.Millisecond}, false},
	} {
		if err := tc.s.Validate(); (err == nil) != tc.ok {
			t.Errorf("%+v: %v, want ok=%v", tc.s, err, tc.ok)
		}
	}
	if _, err := economy.ParseSeed([]byte(`{"items":[{"id":"x","name":"X","category":"c","prices":{"gold":1}}]}`), nil); err == nil {
		t.Error("a seed pricing in an unknown currency was accepted")
	}
	if _, err := economy.ParseSeed([]byte(`{"items":[],"topups":[{"id":"t","name":"T","currency":"coins","amount":1,"price":{"amount":1,"currency":"usd"}}]}`), nil); err == nil {
		t.Error("a top-up of a soft currency was accepted")
	}
}

func TestLevels(t *testing.T) {
	l, err := economy.NewLevels([]int64{100, 300, 600})
	if err != nil {
		t.Fatal(err)
	}
	for xp, want := range map[int64]int{0: 1, 99: 1, 100: 2, 299: 2, 300: 3, 600: 4, 1 << 40: 4} {
		if got := l.LevelFor(xp); got != want {
			t.Errorf("LevelFor(%d) = %d, want %d", xp, got, want)
		}
	}
	def, _ := economy.NewLevels(economy.DefaultXPThresholds())
	if def.LevelFor(0) != 1 || def.LevelFor(100) != 2 || def.LevelFor(1<<50) != 50 {
		t.Fatal("default thresholds")
	}
}

// TestCatalogCacheRefresh shows another replica's catalog change reaching
// this one within the refresh interval, and not before.
func TestCatalogCacheRefresh(t *testing.T) {
	c := startCore(t)
	var clock atomic.Int64
	clock.Store(time.Now().UnixNano())
	now := func() time.Time { return time.Unix(0, clock.Load()) }
	replica, err := economy.New(context.Background(), economy.Config{DB: c.DB, Verifier: c.Verifier, Log: obs.Discard(), Now: now,
		Settings: economy.Settings{CatalogRefresh: 10 * time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	spec := economy.ItemSpec{ID: "arrow", Name: "Arrow", Category: "ammo", Prices: map[string]int64{"coins": 7}, Stackable: true, MaxStack: 999999}
	globaltest.MustStatus(t, c.Do(t, "PUT", "/admin/catalog/items/arrow", globaltest.AdminToken, spec), http.StatusOK)
	if it, _ := replica.Item(ctx, "arrow"); it.Prices["coins"] != 1 {
		t.Fatalf("replica saw the change before its refresh: %v", it.Prices)
	}
	clock.Add(int64(11 * time.Second))
	if it, _ := replica.Item(ctx, "arrow"); it.Prices["coins"] != 7 {
		t.Fatalf("replica still serves %v after the refresh interval", it.Prices)
	}
	// The changing replica itself sees it at once.
	if it, _ := c.Economy.Item(ctx, "arrow"); it.Prices["coins"] != 7 {
		t.Fatalf("the changing replica serves %v", it.Prices)
	}
}

func TestExportAndErase(t *testing.T) {
	c := startCore(t)
	p := c.Guest(t)
	globaltest.MustStatus(t, buy(t, c, p, "k", "sword_wooden", "coins", 1), http.StatusCreated)
	r := c.Do(t, "GET", "/player/me/export", p.Access, nil)
	globaltest.MustStatus(t, r, http.StatusOK)
	var ex struct {
		Services struct {
			Economy economy.ExportSection `json:"economy"`
		} `json:"services"`
	}
	r.Decode(t, &ex)
	e := ex.Services.Economy
	if e.Wallet.Balances["coins"] != 900 || len(e.Inventory) != 1 || len(e.Transactions) != 2 {
		t.Fatalf("export: %+v", e)
	}
	r = c.Do(t, "DELETE", "/player/me", p.Access, nil)
	globaltest.MustStatus(t, r, http.StatusNoContent)
	if n := count(t, c, `SELECT count(*) FROM inventory_items WHERE player_id = $1`, p.ID); n != 0 {
		t.Fatalf("%d inventory rows after erasure", n)
	}
	// The ledger stays, and still reconciles; the erased player gets nothing more.
	if n := count(t, c, `SELECT count(*) FROM transactions WHERE player_id = $1`, p.ID); n != 2 {
		t.Fatalf("%d ledger rows after erasure, want 2 kept", n)
	}
	_, err := c.Economy.Grant(context.Background(), nil, economy.GrantRequest{PlayerID: p.ID, Key: "late-reward", Reason: economy.ReasonReward,
		Currencies: map[string]int64{"coins": 5}, Actor: "system"})
	if err != economy.ErrUnknownPlayer {
		t.Fatalf("grant to an erased player: %v", err)
	}
	mustReconcile(t, c, p.ID)
}
