package economy_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"

	"github.com/atollgg/atoll/global/economy"
	"github.com/atollgg/atoll/global/globaltest"
	"github.com/atollgg/atoll/internal/db"
)

// injectFailures makes the first n inserts into table fail with sqlstate.
// The counter is a sequence: sequences are not transactional, so the count
// survives each failed transaction's rollback. PostgreSQL only (PL/pgSQL).
func injectFailures(t *testing.T, c *globaltest.Core, table, sqlstate string, n int) (used func() int64, remove func()) {
	t.Helper()
	if c.DB.Dialect != db.Postgres {
		t.Skip("fault injection uses a PL/pgSQL trigger")
	}
	ctx := context.Background()
	seq, fn, trg := "fail_seq_"+table, "fail_fn_"+table, "fail_trg_"+table
	stmts := []string{
		fmt.Sprintf(`CREATE SEQUENCE %s`, seq),
		fmt.Sprintf(`CREATE FUNCTION %s() RETURNS trigger LANGUAGE plpgsql AS $$
			BEGIN
				IF nextval('%s') <= %d THEN
					RAISE EXCEPTION 'injected failure' USING ERRCODE = '%s';
				END IF;
				RETURN NEW;
			END $$`, fn, seq, n, sqlstate),
		fmt.Sprintf(`CREATE TRIGGER %s BEFORE INSERT ON %s FOR EACH ROW EXECUTE FUNCTION %s()`, trg, table, fn),
	}
	for _, s := range stmts {
		if _, err := c.DB.Pool.Exec(ctx, s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
	used = func() int64 {
		var v int64
		if err := c.DB.Pool.QueryRow(ctx, `SELECT last_value FROM `+seq).Scan(&v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	remove = func() {
		if _, err := c.DB.Pool.Exec(ctx, fmt.Sprintf(`DROP TRIGGER %s ON %s`, trg, table)); err != nil {
			t.Fatal(err)
		}
	}
	return used, remove
}

func TestSerializationFailuresAreRetried(t *testing.T) {
	const injected = 5 // fewer than db.MaxTxAttempts
	c := startCore(t)
	p := c.Guest(t)
	wallet(t, c, p) // the wallet exists: the next ledger insert is the purchase's
	used, _ := injectFailures(t, c, "transactions", "40001", injected)

	r := buy(t, c, p, "retry-me", "sword_wooden", "coins", 1)
	globaltest.MustStatus(t, r, http.StatusCreated)
	if got := used(); got != injected+1 {
		t.Fatalf("ledger insert ran %d times, want %d failures and one success", got, injected+1)
	}
	if b := wallet(t, c, p).Balances["coins"]; b != 900 {
		t.Fatalf("balance %d, want 900: one debit", b)
	}
	if n := count(t, c, `SELECT count(*) FROM inventory_items WHERE player_id = $1`, p.ID); n != 1 {
		t.Fatalf("%d items, want 1", n)
	}

	// The same for a grant: retried to exactly one credit.
	g, err := c.Economy.Grant(context.Background(), nil, economy.GrantRequest{PlayerID: p.ID, Key: "match-1", Reason: economy.ReasonReward,
		Currencies: map[string]int64{"coins": 40}, Actor: "system"})
	if err != nil || g.Transactions[0].Balance != 940 {
		t.Fatalf("grant: %+v, %v", g, err)
	}
	mustReconcile(t, c, p.ID)
}

func TestExhaustedRetriesChangeNothing(t *testing.T) {
	c := startCore(t)
	p := c.Guest(t)
	wallet(t, c, p)
	used, remove := injectFailures(t, c, "transactions", "40001", db.MaxTxAttempts)

	r := buy(t, c, p, "doomed", "sword_wooden", "coins", 1)
	if r.Status != http.StatusInternalServerError {
		t.Fatalf("status %d after %d serialization failures, want 500: %s", r.Status, db.MaxTxAttempts, r.Body)
	}
	if got := used(); got != db.MaxTxAttempts {
		t.Fatalf("%d attempts, want %d", got, db.MaxTxAttempts)
	}
	if b := wallet(t, c, p).Balances["coins"]; b != 1000 {
		t.Fatalf("balance %d after a failed purchase, want 1000", b)
	}
	remove()
	// The client's retry with the same key now charges exactly once.
	globaltest.MustStatus(t, buy(t, c, p, "doomed", "sword_wooden", "coins", 1), http.StatusCreated)
	globaltest.MustStatus(t, buy(t, c, p, "doomed", "sword_wooden", "coins", 1), http.StatusCreated)
	if b := wallet(t, c, p).Balances["coins"]; b != 900 {
		t.Fatalf("balance %d, want 900", b)
	}
	mustReconcile(t, c, p.ID)
}

// TestGrantFailureRollsBackDebit shows that a crash between the debit and
// the grant cannot happen: they are one transaction, so a failing inventory
// insert takes the debit, the ledger row and the idempotency record with it.
func TestGrantFailureRollsBackDebit(t *testing.T) {
	c := startCore(t)
	p := c.Guest(t)
	wallet(t, c, p)
	_, remove := injectFailures(t, c, "inventory_items", "P0001", 1_000_000)

	for _, item := range []string{"sword_wooden", "potion_health"} {
		r := buy(t, c, p, "crash-"+item, item, "coins", 1)
		if r.Status != http.StatusInternalServerError {
			t.Fatalf("%s: status %d with the grant failing, want 500: %s", item, r.Status, r.Body)
		}
	}
	if b := wallet(t, c, p).Balances["coins"]; b != 1000 {
		t.Fatalf("balance %d: the debit survived a failed grant", b)
	}
	for _, table := range []string{"inventory_items", "economy_requests"} {
		if n := count(t, c, `SELECT count(*) FROM `+table+` WHERE player_id = $1`, p.ID); n != 0 {
			t.Fatalf("%d rows in %s after a failed purchase", n, table)
		}
	}
	if n := count(t, c, `SELECT count(*) FROM transactions WHERE player_id = $1 AND reason = 'purchase'`, p.ID); n != 0 {
		t.Fatalf("%d purchase ledger rows after a failed purchase", n)
	}
	// Grants fail the same way, whole.
	_, err := c.Economy.Grant(context.Background(), nil, economy.GrantRequest{PlayerID: p.ID, Key: "g", Reason: economy.ReasonReward,
		Currencies: map[string]int64{"coins": 5}, Items: []economy.ItemGrant{{ItemTemplateID: "arrow", Quantity: 3}}, Actor: "system"})
	if err == nil || errors.Is(err, economy.ErrKeyReused) {
		t.Fatalf("grant with a failing inventory insert: %v", err)
	}
	if b := wallet(t, c, p).Balances["coins"]; b != 1000 {
		t.Fatalf("balance %d: a failed grant credited coins", b)
	}
	remove()
	globaltest.MustStatus(t, buy(t, c, p, "crash-sword_wooden", "sword_wooden", "coins", 1), http.StatusCreated)
	mustReconcile(t, c, p.ID)
}
