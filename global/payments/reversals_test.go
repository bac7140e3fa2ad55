package payments_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/atollgg/atoll/global/globaltest"
	"github.com/atollgg/atoll/global/payments"
)

// pay completes co through a signed gateway event.
func pay(t *testing.T, c *globaltest.Core, id string, co payments.CheckoutResponse, price int64) string {
	t.Helper()
	pi := payments.DevPaymentRef(co.CheckoutRef)
	if got := outcome(t, deliver(t, c, event(t, id, "checkout.session.completed", payments.SessionObject(co.CheckoutRef, pi, co.TransactionID, price, "usd", "paid")), time.Now())); got != payments.OutcomeApplied {
		t.Fatalf("payment: %s", got)
	}
	return pi
}

func TestPartialRefundReversesOnlyItsShare(t *testing.T) {
	c := startCore(t)
	p := c.Guest(t)
	co := checkout(t, c, p, "k", "gems_550") // 550 gems for 4.99
	pi := pay(t, c, "evt_pay", co, 499)
	steps := []struct {
		id           string
		refunded     int64 // cumulative, as Stripe reports amount_refunded
		outcome      string
		gems         int64
		paymentState string
	}{
		// 2.49 of 4.99 back: floor(550 × 249 / 499) = 274 gems taken.
		{"evt_r1", 249, payments.OutcomeApplied, 550 - 274, "completed"},
		{"evt_r1", 249, payments.OutcomeDuplicate, 550 - 274, "completed"},  // the same event again
		{"evt_r1b", 249, payments.OutcomeDuplicate, 550 - 274, "completed"}, // the same state, another event id
		{"evt_r2", 499, payments.OutcomeApplied, 0, "refunded"},             // the rest
		{"evt_r3", 499, payments.OutcomeDuplicate, 0, "refunded"},
	}
	for _, s := range steps {
		got := outcome(t, deliver(t, c, event(t, s.id, "charge.refunded", payments.PartialChargeObject("ch_1", pi, 499, s.refunded, "usd")), time.Now()))
		b := balances(t, c, p)
		var state string
		if err := c.DB.Pool.QueryRow(context.Background(), `SELECT status FROM payments WHERE id = $1`, co.TransactionID).Scan(&state); err != nil {
			t.Fatal(err)
		}
		if got != s.outcome || b.Balances["gems"] != s.gems || b.Debts != nil || state != s.paymentState {
			t.Fatalf("%s (refunded %d): outcome %s, gems %d, debts %v, payment %s; want %s, %d, none, %s",
				s.id, s.refunded, got, b.Balances["gems"], b.Debts, state, s.outcome, s.gems, s.paymentState)
		}
	}
	reconcile(t, c, p.ID)
}

func TestDisputeWonRestores(t *testing.T) {
	c := startCore(t)
	p := c.Guest(t)
	co := checkout(t, c, p, "k", "gems_100")
	pi := pay(t, c, "evt_pay", co, 99)
	steps := []struct {
		id, typ string
		obj     map[string]any
		outcome string
		gems    int64
	}{
		{"evt_lost_early", "charge.dispute.closed", payments.ClosedDisputeObject("dp_0", "ch_1", pi, 99, "usd", "lost"), payments.OutcomeIgnored, 100},
		{"evt_won_early", "charge.dispute.closed", payments.ClosedDisputeObject("dp_0", "ch_1", pi, 99, "usd", "won"), payments.OutcomeDuplicate, 100}, // nothing taken yet
		{"evt_d1", "charge.dispute.created", payments.DisputeObject("dp_1", "ch_1", pi, 99, "usd"), payments.OutcomeApplied, 0},
		{"evt_won", "charge.dispute.closed", payments.ClosedDisputeObject("dp_1", "ch_1", pi, 99, "usd", "won"), payments.OutcomeApplied, 100},
		{"evt_won2", "charge.dispute.closed", payments.ClosedDisputeObject("dp_1", "ch_1", pi, 99, "usd", "won"), payments.OutcomeDuplicate, 100},
		// Won back, then refunded for real: the whole top-up goes.
		{"evt_r", "charge.refunded", payments.ChargeObject("ch_1", pi, 99, "usd"), payments.OutcomeApplied, 0},
	}
	for _, s := range steps {
		got := outcome(t, deliver(t, c, event(t, s.id, s.typ, s.obj), time.Now()))
		if b := balances(t, c, p); got != s.outcome || b.Balances["gems"] != s.gems {
			t.Fatalf("%s: outcome %s, gems %d; want %s, %d", s.id, got, b.Balances["gems"], s.outcome, s.gems)
		}
	}
	reconcile(t, c, p.ID)
}

func TestPaymentForErasedAccountIsRecordedForRefund(t *testing.T) {
	c := startCore(t)
	p := c.Guest(t)
	co := checkout(t, c, p, "k", "gems_100")
	globaltest.MustStatus(t, c.Do(t, "DELETE", "/player/me", p.Access, nil), http.StatusNoContent)
	pi := payments.DevPaymentRef(co.CheckoutRef)
	paid := event(t, "evt_late", "checkout.session.completed", payments.SessionObject(co.CheckoutRef, pi, co.TransactionID, 99, "usd", "paid"))
	if got := outcome(t, deliver(t, c, paid, time.Now())); got != payments.OutcomeRefundDue {
		t.Fatalf("payment for an erased account: %s, want %s", got, payments.OutcomeRefundDue)
	}
	if got := outcome(t, deliver(t, c, paid, time.Now())); got != payments.OutcomeDuplicate {
		t.Fatalf("redelivery: %s", got)
	}
	var due, price int64
	var reason string
	if err := c.DB.Pool.QueryRow(context.Background(), `SELECT count(*), max(price_amount), max(reason) FROM payment_refunds_due WHERE payment_id = $1`, co.TransactionID).Scan(&due, &price, &reason); err != nil || due != 1 || price != 99 || reason != "player_erased" {
		t.Fatalf("refunds due: %d %d %q (%v)", due, price, reason, err)
	}
	var credited int64
	if err := c.DB.Pool.QueryRow(context.Background(), `SELECT count(*) FROM transactions WHERE id = $1 AND status = 'completed'`, co.TransactionID).Scan(&credited); err != nil || credited != 0 {
		t.Fatalf("the erased account's top-up was credited (%d, %v)", credited, err)
	}
}
