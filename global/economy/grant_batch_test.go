package economy_test

import (
	"context"
	"errors"
	"testing"

	"github.com/atollgg/atoll/global/economy"
	"github.com/atollgg/atoll/global/globaltest"
	"github.com/jackc/pgx/v5"
)

// TestGrantBatchMatchesGrant grants the same rewards to two players through
// GrantBatch and to two others through Grant, and checks every effect is
// the same: wallets, ledger rows, xp and levels, idempotency records and
// audit entries; then replays, a reused key and an unknown player.
func TestGrantBatchMatchesGrant(t *testing.T) {
	c := startCore(t)
	ctx := context.Background()
	p := []globaltest.Player{c.Guest(t), c.Guest(t), c.Guest(t), c.Guest(t)}
	wallet(t, c, p[1]) // one wallet exists already, the others are created by the grant
	wallet(t, c, p[3])
	req := func(pl globaltest.Player, coins, xp int64) economy.GrantRequest {
		return economy.GrantRequest{PlayerID: pl.ID, Key: "match:m1", Reason: economy.ReasonReward, Currencies: map[string]int64{"coins": coins},
			XP: xp, Note: "match duel", Actor: "cell:test"}
	}
	batch := []economy.GrantRequest{req(p[0], 30, 150), req(p[1], 10, 100)}
	var got []*economy.GrantResult
	if err := c.DB.RunTx(ctx, func(ctx context.Context, tx pgx.Tx) (err error) {
		got, err = c.Economy.GrantBatch(ctx, tx, batch)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	var want []*economy.GrantResult
	for _, r := range []economy.GrantRequest{req(p[2], 30, 150), req(p[3], 10, 100)} {
		res, err := c.Economy.Grant(ctx, nil, r)
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, res)
	}
	type effects struct {
		balance, ledger, ledgerRewards, requests, audits, xp, level int64
		leveled                                                     bool
		txns                                                        int
	}
	effectsOf := func(pl globaltest.Player, res *economy.GrantResult) effects {
		var e effects
		e.balance = wallet(t, c, pl).Balances["coins"]
		e.ledger = count(t, c, `SELECT count(*) FROM transactions WHERE player_id = $1`, pl.ID)
		e.ledgerRewards = count(t, c, `SELECT COALESCE(sum(amount), 0) FROM transactions WHERE player_id = $1 AND reason = 'reward'
			AND idempotency_key = 'match:m1' AND details->>'actor' = 'cell:test' AND balance_after IS NOT NULL`, pl.ID)
		e.requests = count(t, c, `SELECT count(*) FROM economy_requests WHERE player_id = $1 AND result IS NOT NULL`, pl.ID)
		e.audits = count(t, c, `SELECT count(*) FROM audit_log WHERE player_id = $1 AND kind = 'economy.grant' AND actor = 'cell:test'
			AND details->>'idempotency_key' = 'match:m1'`, pl.ID)
		e.xp = count(t, c, `SELECT xp FROM players WHERE id = $1`, pl.ID)
		e.level = count(t, c, `SELECT player_level FROM players WHERE id = $1`, pl.ID)
		if res.Progress != nil {
			e.leveled = res.Progress.LeveledUp
		}
		e.txns = len(res.Transactions)
		if e.txns == 1 && res.Transactions[0].Balance != e.balance {
			e.txns = -1 // the result disagrees with the wallet
		}
		return e
	}
	for i := range batch {
		b, s := effectsOf(p[i], got[i]), effectsOf(p[i+2], want[i])
		if b != s || got[i].Replayed || got[i].Progress == nil || got[i].Progress.XP != batch[i].XP {
			t.Fatalf("grant %d: batch %+v (%+v), single %+v", i, b, got[i], s)
		}
	}
	mustReconcile(t, c, p[0].ID, p[1].ID, p[2].ID, p[3].ID)

	// A wallet in debt (a reversed top-up) pays the debt first, on both paths.
	debtors := []globaltest.Player{c.Guest(t), c.Guest(t)}
	for _, d := range debtors {
		wallet(t, c, d)
		if _, err := c.DB.Pool.Exec(ctx, `WITH w AS (UPDATE wallets SET balance = 0, debt = 5 WHERE player_id = $1 AND currency = 'coins' RETURNING 1)
			INSERT INTO transactions (player_id, currency_type, amount, status, reason, balance_after) SELECT $1, 'coins', -1005, 'completed', 'refund', 0 FROM w`,
			d.ID); err != nil {
			t.Fatal(err)
		}
	}
	var debtBatch []*economy.GrantResult
	if err := c.DB.RunTx(ctx, func(ctx context.Context, tx pgx.Tx) (err error) {
		debtBatch, err = c.Economy.GrantBatch(ctx, tx, []economy.GrantRequest{req(debtors[0], 30, 0)})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	debtSingle, err := c.Economy.Grant(ctx, nil, req(debtors[1], 30, 0))
	if err != nil {
		t.Fatal(err)
	}
	if b, s := debtBatch[0].Transactions[0], debtSingle.Transactions[0]; b.Balance != 25 || b.Debt != 0 || b.Balance != s.Balance || b.Debt != s.Debt {
		t.Fatalf("debt payoff: batch %+v, single %+v, want balance 25 and no debt", b, s)
	}
	mustReconcile(t, c, debtors[0].ID, debtors[1].ID)

	run := func(reqs []economy.GrantRequest) ([]*economy.GrantResult, error) {
		var out []*economy.GrantResult
		err := c.DB.RunTx(ctx, func(ctx context.Context, tx pgx.Tx) (err error) {
			out, err = c.Economy.GrantBatch(ctx, tx, reqs)
			return err
		})
		return out, err
	}
	before := count(t, c, `SELECT count(*) FROM transactions`)
	replay, err := run(batch)
	if err != nil || !replay[0].Replayed || !replay[1].Replayed || replay[0].Transactions[0].TransactionID != got[0].Transactions[0].TransactionID {
		t.Fatalf("replay: %+v %v", replay, err)
	}
	for _, tc := range []struct {
		name string
		reqs []economy.GrantRequest
		want error
	}{
		{"key reused with other amounts", []economy.GrantRequest{req(p[0], 31, 150)}, economy.ErrKeyReused},
		{"unknown player", []economy.GrantRequest{req(globaltest.Player{ID: "00000000-0000-4000-8000-000000000001"}, 1, 1)}, economy.ErrUnknownPlayer},
		{"player twice", []economy.GrantRequest{req(p[0], 1, 0), {PlayerID: p[0].ID, Key: "k2", Reason: economy.ReasonReward, XP: 1, Actor: "x"}}, nil},
		{"a debit", []economy.GrantRequest{{PlayerID: p[0].ID, Key: "k3", Reason: economy.ReasonGrant, Currencies: map[string]int64{"coins": -1}, Actor: "x"}}, nil},
		{"items", []economy.GrantRequest{{PlayerID: p[0].ID, Key: "k4", Reason: economy.ReasonReward, Items: []economy.ItemGrant{{ItemTemplateID: "arrow", Quantity: 1}}, Actor: "x"}}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := run(tc.reqs)
			if err == nil || (tc.want != nil && !errors.Is(err, tc.want)) {
				t.Fatalf("error %v, want %v", err, tc.want)
			}
		})
	}
	if after := count(t, c, `SELECT count(*) FROM transactions`); after != before {
		t.Fatalf("refused batches wrote %d ledger rows", after-before)
	}
	mustReconcile(t, c, p[0].ID, p[1].ID)
}
