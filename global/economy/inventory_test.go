package economy_test

import (
	"net/http"
	"testing"

	"github.com/atollgg/atoll/global/economy"
	"github.com/atollgg/atoll/global/globaltest"
)

func TestInventory(t *testing.T) {
	c := startCore(t)
	owner, other := c.Guest(t), c.Guest(t)
	var sword, potions economy.PurchaseResult
	r := buy(t, c, owner, "s", "sword_wooden", "coins", 1)
	globaltest.MustStatus(t, r, http.StatusCreated)
	r.Decode(t, &sword)
	r = buy(t, c, owner, "p", "potion_health", "coins", 5)
	globaltest.MustStatus(t, r, http.StatusCreated)
	r.Decode(t, &potions)
	swordID, potionID := sword.InventoryItemIDs[0], potions.InventoryItemIDs[0]

	// The owner sees everything, under its id or "me".
	for _, who := range []string{owner.ID, "me"} {
		r = c.Do(t, "GET", "/inventory/"+who, owner.Access, nil)
		globaltest.MustStatus(t, r, http.StatusOK)
		var inv economy.InventoryPage
		r.Decode(t, &inv)
		if len(inv.Items) != 2 || inv.Items[0].ID != potionID || inv.Items[0].Quantity != 5 || inv.Items[1].Name != "Wooden Sword" ||
			string(inv.Items[1].Attributes) != `{"damage":5,"durability":100}` {
			t.Fatalf("owner inventory: %+v", inv)
		}
	}
	// Others get 403 until the owner makes something public, then only that.
	r = c.Do(t, "GET", "/inventory/"+owner.ID, other.Access, nil)
	globaltest.MustStatus(t, r, http.StatusForbidden)
	r = c.Do(t, "POST", "/inventory/"+swordID+"/visibility", owner.Access, economy.VisibilityRequest{Public: new(true)})
	globaltest.MustStatus(t, r, http.StatusOK)
	r = c.Do(t, "GET", "/inventory/"+owner.ID, other.Access, nil)
	globaltest.MustStatus(t, r, http.StatusOK)
	var public economy.InventoryPage
	r.Decode(t, &public)
	if len(public.Items) != 1 || public.Items[0].ID != swordID || !public.Items[0].IsPublic {
		t.Fatalf("public inventory: %+v", public)
	}
	// An unknown player looks private too.
	r = c.Do(t, "GET", "/inventory/00000000-0000-4000-8000-000000000001", other.Access, nil)
	globaltest.MustStatus(t, r, http.StatusForbidden)

	// Equip and unequip, owner only.
	r = c.Do(t, "POST", "/inventory/"+swordID+"/equip", owner.Access, nil)
	globaltest.MustStatus(t, r, http.StatusOK)
	var it economy.InventoryItem
	r.Decode(t, &it)
	if !it.IsEquipped {
		t.Fatalf("equip: %+v", it)
	}
	for _, action := range []string{"equip", "unequip", "consume", "visibility"} {
		r = c.Do(t, "POST", "/inventory/"+swordID+"/"+action, other.Access, map[string]any{"public": false})
		if action == "consume" {
			r = c.Do(t, "POST", "/inventory/"+swordID+"/consume", other.Access, economy.ConsumeRequest{Quantity: 1})
		}
		if r.Status != http.StatusNotFound {
			t.Fatalf("%s by another player: %d %s", action, r.Status, r.Body)
		}
	}
	r = c.Do(t, "POST", "/inventory/"+swordID+"/unequip", owner.Access, nil)
	globaltest.MustStatus(t, r, http.StatusOK)
	r.Decode(t, &it)
	if it.IsEquipped {
		t.Fatalf("unequip: %+v", it)
	}

	// Consume: partial, idempotent with a key, too many, all.
	consume := func(qty int64, key string) globaltest.Response {
		hdr := []string{}
		if key != "" {
			hdr = []string{economy.IdempotencyHeader, key}
		}
		return c.Do(t, "POST", "/inventory/"+potionID+"/consume", owner.Access, economy.ConsumeRequest{Quantity: qty}, hdr...)
	}
	var cr economy.ConsumeResult
	for range 2 {
		r = consume(2, "drink-1")
		globaltest.MustStatus(t, r, http.StatusOK)
		r.Decode(t, &cr)
		if cr.Remaining != 3 || cr.Consumed != 2 {
			t.Fatalf("consume with key: %+v", cr)
		}
	}
	if r = consume(1, "drink-1"); r.Status != http.StatusConflict || r.ErrorCode() != economy.CodeKeyReused {
		t.Fatalf("key reused with another quantity: %d %s", r.Status, r.Body)
	}
	if r = consume(4, ""); r.Status != http.StatusConflict || r.ErrorCode() != economy.CodeNotEnoughItems {
		t.Fatalf("consume too many: %d %s", r.Status, r.Body)
	}
	r = consume(3, "")
	globaltest.MustStatus(t, r, http.StatusOK)
	r.Decode(t, &cr)
	if cr.Remaining != 0 {
		t.Fatalf("consume all: %+v", cr)
	}
	if n := count(t, c, `SELECT count(*) FROM inventory_items WHERE id = $1`, potionID); n != 0 {
		t.Fatal("an empty stack was kept")
	}
	if r = consume(1, ""); r.Status != http.StatusNotFound {
		t.Fatalf("consume a gone item: %d", r.Status)
	}
	// Buying again refills the same stack id.
	r = buy(t, c, owner, "p2", "potion_health", "coins", 1)
	globaltest.MustStatus(t, r, http.StatusCreated)
	// An empty body consumes one.
	r = c.Do(t, "POST", "/inventory/"+potionID+"/consume", owner.Access, nil)
	globaltest.MustStatus(t, r, http.StatusOK)

	for _, bad := range []string{"/inventory/not-a-uuid", "/inventory/me?limit=0", "/inventory/me?cursor=bm90LWEtY3Vyc29y"} {
		if r = c.Do(t, "GET", bad, owner.Access, nil); r.Status != http.StatusBadRequest {
			t.Fatalf("GET %s: %d", bad, r.Status)
		}
	}
	if r = c.Do(t, "POST", "/inventory/"+swordID+"/visibility", owner.Access, map[string]any{}); r.Status != http.StatusBadRequest {
		t.Fatalf("visibility without public: %d", r.Status)
	}
}
