package economy_test

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"testing"

	"github.com/atollgg/atoll/global"
	"github.com/atollgg/atoll/global/economy"
	"github.com/atollgg/atoll/global/globaltest"
	"github.com/atollgg/atoll/internal/authn"
	"github.com/jackc/pgx/v5"
)

// Scoped cell credentials TestServiceGrant adds next to globaltest's cell,
// which holds the default scopes.
const (
	ratingsOnlyCell  = "ratings-only-token-0123456789"
	cappedCell       = "capped-cell-token-0123456789"
	cappedCoinsLimit = 20
)

func TestServiceGrant(t *testing.T) {
	c := startCore(t, func(cfg *global.Config) {
		var err error
		cfg.CellTokens, cfg.CellScopes, err = authn.ParseCredentials(globaltest.CellID + "=" + globaltest.CellToken +
			", ratings-only=" + ratingsOnlyCell + " ratings:read" +
			", capped=" + cappedCell + " results:apply grant:coins:" + strconv.Itoa(cappedCoinsLimit))
		if err != nil {
			t.Fatal(err)
		}
	})
	p := c.Guest(t)
	reward := economy.ServiceGrantRequest{PlayerID: p.ID, IdempotencyKey: "match-42:" + p.ID, Currencies: map[string]int64{"coins": 50},
		Items: []economy.ItemGrant{{ItemTemplateID: "potion_health", Quantity: 3}, {ItemTemplateID: "sword_wooden", Quantity: 1, Attributes: []byte(`{"damage":9}`)}},
		XP:    350, Note: "match 42 win"}

	r := c.Do(t, "POST", "/internal/v1/economy/grants", globaltest.CellToken, reward)
	globaltest.MustStatus(t, r, http.StatusOK)
	var g economy.GrantResult
	r.Decode(t, &g)
	if len(g.Transactions) != 1 || g.Transactions[0].Currency != "coins" || g.Transactions[0].Balance != 1050 {
		t.Fatalf("grant transactions: %+v", g.Transactions)
	}
	// 350 xp passes the 100 and 300 thresholds: level 3.
	if g.Progress == nil || g.Progress.Level != 3 || g.Progress.XP != 350 || !g.Progress.LeveledUp {
		t.Fatalf("progress: %+v", g.Progress)
	}
	if len(g.Items) != 2 || g.Items[0].InventoryItemIDs[0] != economy.StackID(p.ID, "potion_health") {
		t.Fatalf("items: %+v", g.Items)
	}

	// The cell's retry (e.g. a redelivered match result) changes nothing.
	r = c.Do(t, "POST", "/internal/v1/economy/grants", globaltest.CellToken, reward)
	globaltest.MustStatus(t, r, http.StatusOK)
	var again economy.GrantResult
	r.Decode(t, &again)
	if r.Header.Get(economy.ReplayedHeader) != "true" || again.Transactions[0].TransactionID != g.Transactions[0].TransactionID {
		t.Fatalf("replay: %+v", again)
	}
	if b := wallet(t, c, p); b.Balances["coins"] != 1050 || b.Balances["gems"] != 0 {
		t.Fatalf("wallet after replay: %+v", b)
	}
	var level int
	var xp int64
	if err := c.DB.Pool.QueryRow(context.Background(), `SELECT player_level, xp FROM players WHERE id = $1`, p.ID).Scan(&level, &xp); err != nil || level != 3 || xp != 350 {
		t.Fatalf("player level %d xp %d (%v)", level, xp, err)
	}
	if n := count(t, c, `SELECT count(*) FROM audit_log WHERE player_id = $1 AND kind = 'economy.grant' AND actor = 'cell:`+globaltest.CellID+`'`, p.ID); n != 1 {
		t.Fatalf("%d grant audit rows, want 1", n)
	}

	cases := []struct {
		name   string
		token  string
		body   any
		status int
		code   string
	}{
		{"same key different body", globaltest.CellToken, economy.ServiceGrantRequest{PlayerID: p.ID, IdempotencyKey: reward.IdempotencyKey, Currencies: map[string]int64{"coins": 51}}, http.StatusConflict, economy.CodeKeyReused},
		{"player token", p.Access, reward, http.StatusUnauthorized, "unauthenticated"},
		{"admin token is not a cell", globaltest.AdminToken, reward, http.StatusUnauthorized, "unauthenticated"},
		{"negative reward", globaltest.CellToken, economy.ServiceGrantRequest{PlayerID: p.ID, IdempotencyKey: "neg", Currencies: map[string]int64{"coins": -5}}, http.StatusBadRequest, "invalid_argument"},
		{"empty grant", globaltest.CellToken, economy.ServiceGrantRequest{PlayerID: p.ID, IdempotencyKey: "empty"}, http.StatusBadRequest, "invalid_argument"},
		{"unknown player", globaltest.CellToken, economy.ServiceGrantRequest{PlayerID: "00000000-0000-4000-8000-000000000000", IdempotencyKey: "x", Currencies: map[string]int64{"coins": 5}}, http.StatusNotFound, economy.CodeUnknownPlayer},
		{"unknown item", globaltest.CellToken, economy.ServiceGrantRequest{PlayerID: p.ID, IdempotencyKey: "ui", Items: []economy.ItemGrant{{ItemTemplateID: "nope", Quantity: 1}}}, http.StatusNotFound, economy.CodeUnknownItem},
		{"attributes on stackable", globaltest.CellToken, economy.ServiceGrantRequest{PlayerID: p.ID, IdempotencyKey: "as", Items: []economy.ItemGrant{{ItemTemplateID: "arrow", Quantity: 1, Attributes: []byte(`{"a":1}`)}}}, http.StatusBadRequest, "invalid_argument"},
		{"unknown currency", globaltest.CellToken, economy.ServiceGrantRequest{PlayerID: p.ID, IdempotencyKey: "uc", Currencies: map[string]int64{"gold": 5}}, http.StatusBadRequest, "invalid_argument"},
		{"premium currency", globaltest.CellToken, economy.ServiceGrantRequest{PlayerID: p.ID, IdempotencyKey: "gems", Currencies: map[string]int64{"gems": 2}}, http.StatusForbidden, "permission_denied"},
		{"premium currency beside coins", globaltest.CellToken, economy.ServiceGrantRequest{PlayerID: p.ID, IdempotencyKey: "gems2", Currencies: map[string]int64{"coins": 1, "gems": 1}}, http.StatusForbidden, "permission_denied"},
		{"above the default cap", globaltest.CellToken, economy.ServiceGrantRequest{PlayerID: p.ID, IdempotencyKey: "big", Currencies: map[string]int64{"coins": authn.DefaultRewardCap + 1}}, http.StatusForbidden, "permission_denied"},
		{"the most a default credential may", globaltest.CellToken, economy.ServiceGrantRequest{PlayerID: p.ID, IdempotencyKey: "max", Currencies: map[string]int64{"coins": authn.DefaultRewardCap}}, http.StatusOK, ""},
		{"above an explicit cap", cappedCell, economy.ServiceGrantRequest{PlayerID: p.ID, IdempotencyKey: "cap", Currencies: map[string]int64{"coins": cappedCoinsLimit + 1}}, http.StatusForbidden, "permission_denied"},
		{"within an explicit cap", cappedCell, economy.ServiceGrantRequest{PlayerID: p.ID, IdempotencyKey: "capok", Currencies: map[string]int64{"coins": cappedCoinsLimit}}, http.StatusOK, ""},
		{"without results:apply", ratingsOnlyCell, economy.ServiceGrantRequest{PlayerID: p.ID, IdempotencyKey: "ro", XP: 1}, http.StatusForbidden, "permission_denied"},
		{"unknown field", globaltest.CellToken, []byte(`{"player_id":"` + p.ID + `","idempotency_key":"u","xp":1,"reason":"grant"}`), http.StatusBadRequest, "invalid_argument"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := c.Do(t, "POST", "/internal/v1/economy/grants", tc.token, tc.body)
			if r.Status != tc.status || r.ErrorCode() != tc.code {
				t.Fatalf("status %d code %q, want %d %q: %s", r.Status, r.ErrorCode(), tc.status, tc.code, r.Body)
			}
		})
	}
	mustReconcile(t, c, p.ID)
}

func TestGrantJoinsCallerTransaction(t *testing.T) {
	c := startCore(t)
	p := c.Guest(t)
	ctx := context.Background()
	req := economy.GrantRequest{PlayerID: p.ID, Key: "event-7", Reason: economy.ReasonReward, Currencies: map[string]int64{"coins": 10}, Actor: "system"}
	// An event consumer that fails after the grant rolls the grant back too.
	boom := errors.New("consumer failed after the grant")
	err := c.DB.RunTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		if _, err := c.Economy.Grant(ctx, tx, req); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatal(err)
	}
	if b := wallet(t, c, p).Balances["coins"]; b != 1000 {
		t.Fatalf("balance %d: a rolled-back grant credited", b)
	}
	// Committed with the consumer's marker, then replayed outside it.
	if err := c.DB.RunTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		_, err := c.Economy.Grant(ctx, tx, req)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	res, err := c.Economy.Grant(ctx, nil, req)
	if err != nil || !res.Replayed || res.Transactions[0].Balance != 1010 {
		t.Fatalf("replay outside the transaction: %+v %v", res, err)
	}
	mustReconcile(t, c, p.ID)
}

func TestAdminGrant(t *testing.T) {
	c := startCore(t)
	p := c.Guest(t)
	path := "/admin/players/" + p.ID + "/grant"
	body := economy.AdminGrantRequest{Currency: "gems", Amount: 30, Reason: "outage compensation #12", IdempotencyKey: "ticket-12"}

	r := c.Do(t, "POST", path, globaltest.AdminToken, body)
	globaltest.MustStatus(t, r, http.StatusOK)
	r = c.Do(t, "POST", path, globaltest.AdminToken, body)
	globaltest.MustStatus(t, r, http.StatusOK)
	if r.Header.Get(economy.ReplayedHeader) != "true" {
		t.Fatal("second admin grant with the same key was not a replay")
	}
	if b := wallet(t, c, p); b.Balances["gems"] != 30 {
		t.Fatalf("gems %d, want 30", b.Balances["gems"])
	}
	// A correction takes back, but never below zero.
	r = c.Do(t, "POST", path, globaltest.AdminToken, economy.AdminGrantRequest{Currency: "gems", Amount: -40, Reason: "typo", IdempotencyKey: "ticket-13"})
	if r.Status != http.StatusConflict || r.ErrorCode() != economy.CodeInsufficientFunds {
		t.Fatalf("over-correction: %d %s", r.Status, r.Body)
	}
	r = c.Do(t, "POST", path, globaltest.AdminToken, economy.AdminGrantRequest{Currency: "gems", Amount: -10, Reason: "typo", IdempotencyKey: "ticket-14"})
	globaltest.MustStatus(t, r, http.StatusOK)
	if b := wallet(t, c, p); b.Balances["gems"] != 20 {
		t.Fatalf("gems %d, want 20", b.Balances["gems"])
	}
	for _, tc := range []struct {
		name, token string
		body        any
		status      int
	}{
		{"no reason", globaltest.AdminToken, economy.AdminGrantRequest{Currency: "gems", Amount: 1, IdempotencyKey: "k"}, http.StatusBadRequest},
		{"no key", globaltest.AdminToken, economy.AdminGrantRequest{Currency: "gems", Amount: 1, Reason: "r"}, http.StatusBadRequest},
		{"zero", globaltest.AdminToken, economy.AdminGrantRequest{Currency: "gems", Reason: "r", IdempotencyKey: "z"}, http.StatusBadRequest},
		{"player token", p.Access, body, http.StatusUnauthorized},
		{"cell token", globaltest.CellToken, body, http.StatusUnauthorized},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if r := c.Do(t, "POST", path, tc.token, tc.body); r.Status != tc.status {
				t.Fatalf("status %d, want %d: %s", r.Status, tc.status, r.Body)
			}
		})
	}
	// Every admin call that got past authentication is audited: the two
	// grants and the replay with their change, the four refusals apart.
	audited := `SELECT count(*) FROM audit_log WHERE kind = 'admin.action' AND player_id = $1 AND details->>'action' = 'economy.grant'`
	if n := count(t, c, audited+` AND details->>'outcome' IS NULL`, p.ID); n != 3 {
		t.Fatalf("%d admin grant audit rows, want 3 (two grants and one replay)", n)
	}
	if n := count(t, c, audited+` AND details->>'outcome' = 'refused'`, p.ID); n != 4 {
		t.Fatalf("%d refused admin grant audit rows, want 4", n)
	}
	mustReconcile(t, c, p.ID)
}
