package payments_test

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/atollgg/atoll/global"
	"github.com/atollgg/atoll/global/economy"
	"github.com/atollgg/atoll/global/globaltest"
	"github.com/atollgg/atoll/global/payments"
	"github.com/atollgg/atoll/internal/db"
	"github.com/atollgg/atoll/internal/dbtest"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

func startCore(t testing.TB) *globaltest.Core {
	t.Helper()
	return globaltest.Start(t, func(c *global.Config) { c.Payments.Provider = "dev" })
}

func checkout(t testing.TB, c *globaltest.Core, p globaltest.Player, key, offer string) payments.CheckoutResponse {
	t.Helper()
	r := c.Do(t, "POST", "/store/checkout", p.Access, payments.CheckoutBody{OfferID: offer}, economy.IdempotencyHeader, key)
	globaltest.MustStatus(t, r, http.StatusCreated)
	var co payments.CheckoutResponse
	r.Decode(t, &co)
	return co
}

func balances(t testing.TB, c *globaltest.Core, p globaltest.Player) economy.Balances {
	t.Helper()
	r := c.Do(t, "GET", "/wallet", p.Access, nil)
	globaltest.MustStatus(t, r, http.StatusOK)
	var b economy.Balances
	r.Decode(t, &b)
	return b
}

// deliver signs payload as the dev gateway and posts it to the webhook.
func deliver(t testing.TB, c *globaltest.Core, payload []byte, at time.Time) globaltest.Response {
	t.Helper()
	return c.Do(t, "POST", "/payments/webhook/dev", "", payload, payments.SignatureHeader, c.Payments.Dev().Sign(payload, at))
}

func event(t testing.TB, id, typ string, obj map[string]any) []byte {
	t.Helper()
	b, err := payments.StripeEventJSON(id, typ, time.Now(), obj)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func outcome(t testing.TB, r globaltest.Response) string {
	t.Helper()
	globaltest.MustStatus(t, r, http.StatusOK)
	var w payments.WebhookResponse
	r.Decode(t, &w)
	return w.Outcome
}

func reconcile(t testing.TB, c *globaltest.Core, players ...string) {
	t.Helper()
	mm, err := c.Economy.Reconcile(context.Background(), players...)
	if err != nil || len(mm) > 0 {
		t.Fatalf("ledger does not reconcile: %+v %v", mm, err)
	}
}

func TestTopUpRefundAndDebt(t *testing.T) {
	c := startCore(t)
	p := c.Guest(t)
	co := checkout(t, c, p, "buy-gems-1", "gems_100")
	if co.Status != "pending" || co.Amount != 100 || co.Currency != "gems" || co.Price.Amount != 99 || co.Provider != "dev" || co.CheckoutURL == "" {
		t.Fatalf("checkout: %+v", co)
	}
	// Retries return the same checkout; another offer under the key is refused.
	if again := checkout(t, c, p, "buy-gems-1", "gems_100"); again != co {
		t.Fatalf("checkout retry: %+v, first %+v", again, co)
	}
	r := c.Do(t, "POST", "/store/checkout", p.Access, payments.CheckoutBody{OfferID: "gems_550"}, economy.IdempotencyHeader, "buy-gems-1")
	if r.Status != http.StatusConflict || r.ErrorCode() != economy.CodeKeyReused {
		t.Fatalf("key reused for another offer: %d %s", r.Status, r.Body)
	}
	if r = c.Do(t, "POST", "/store/checkout", p.Access, payments.CheckoutBody{OfferID: "gems_1"}, economy.IdempotencyHeader, "k"); r.Status != http.StatusNotFound {
		t.Fatalf("unknown offer: %d", r.Status)
	}
	if r = c.Do(t, "POST", "/store/checkout", p.Access, payments.CheckoutBody{OfferID: "gems_100"}); r.Status != http.StatusBadRequest {
		t.Fatalf("no idempotency key: %d", r.Status)
	}
	if b := balances(t, c, p); b.Balances["gems"] != 0 {
		t.Fatalf("a pending top-up credited: %+v", b)
	}

	// Another player cannot pay for, or see, this checkout.
	other := c.Guest(t)
	if r = c.Do(t, "POST", "/payments/dev/checkout/"+co.CheckoutRef+"/complete", other.Access, nil); r.Status != http.StatusNotFound {
		t.Fatalf("paying someone else's checkout: %d", r.Status)
	}
	r = c.Do(t, "POST", "/payments/dev/checkout/"+co.CheckoutRef+"/complete", p.Access, nil)
	globaltest.MustStatus(t, r, http.StatusOK)
	var paid payments.DevDelivery
	r.Decode(t, &paid)
	if paid.Outcome != payments.OutcomeApplied {
		t.Fatalf("pay: %+v", paid)
	}
	if b := balances(t, c, p); b.Balances["gems"] != 100 {
		t.Fatalf("gems after paying %d, want 100", b.Balances["gems"])
	}
	// The gateway redelivering the same signed event changes nothing.
	r = c.Do(t, "POST", "/payments/webhook/dev", "", []byte(paid.Payload), payments.SignatureHeader, paid.Signature)
	if got := outcome(t, r); got != payments.OutcomeDuplicate {
		t.Fatalf("replayed event: %s", got)
	}
	// A forged or altered delivery is refused and changes nothing.
	forged := []byte(paid.Payload[:len(paid.Payload)-1] + " ")
	for name, hdr := range map[string]string{
		"altered payload": paid.Signature,
		"wrong secret":    payments.Sign(forged, time.Now(), "whsec_guess"),
		"no signature":    "",
	} {
		r = c.Do(t, "POST", "/payments/webhook/dev", "", forged, payments.SignatureHeader, hdr)
		if r.Status != http.StatusBadRequest {
			t.Fatalf("%s: %d %s", name, r.Status, r.Body)
		}
	}
	// A stale but correctly signed delivery is refused too.
	stale := event(t, "evt_stale", "checkout.session.completed", payments.SessionObject(co.CheckoutRef, payments.DevPaymentRef(co.CheckoutRef), co.TransactionID, 99, "usd", "paid"))
	if r = deliver(t, c, stale, time.Now().Add(-time.Hour)); r.Status != http.StatusBadRequest {
		t.Fatalf("stale delivery: %d", r.Status)
	}
	if b := balances(t, c, p); b.Balances["gems"] != 100 {
		t.Fatalf("gems %d after bad deliveries, want 100", b.Balances["gems"])
	}

	// Spend 60 gems, then the payment is refunded: 40 come back, 60 become debt.
	for i := range 6 {
		r = c.Do(t, "POST", "/store/purchase", p.Access, economy.PurchaseRequest{ItemTemplateID: "boost_xp", Currency: "gems"}, economy.IdempotencyHeader, fmt.Sprint("boost-", i))
		globaltest.MustStatus(t, r, http.StatusCreated)
	}
	if r = c.Do(t, "POST", "/payments/dev/checkout/"+co.CheckoutRef+"/refund", p.Access, nil); r.Status != http.StatusUnauthorized {
		t.Fatalf("a player simulating a refund: %d", r.Status)
	}
	r = c.Do(t, "POST", "/payments/dev/checkout/"+co.CheckoutRef+"/refund", globaltest.AdminToken, nil)
	globaltest.MustStatus(t, r, http.StatusOK)
	b := balances(t, c, p)
	if b.Balances["gems"] != 0 || b.Debts["gems"] != 60 {
		t.Fatalf("after refund: %+v, want 0 gems and 60 debt", b)
	}
	// Debt blocks spending gems, not coins.
	r = c.Do(t, "POST", "/store/purchase", p.Access, economy.PurchaseRequest{ItemTemplateID: "hat_wizard", Currency: "gems"}, economy.IdempotencyHeader, "hat-gems")
	if r.Status != http.StatusConflict || r.ErrorCode() != economy.CodeWalletInDebt {
		t.Fatalf("spending in debt: %d %s", r.Status, r.Body)
	}
	r = c.Do(t, "POST", "/store/purchase", p.Access, economy.PurchaseRequest{ItemTemplateID: "hat_wizard", Currency: "coins"}, economy.IdempotencyHeader, "hat-coins")
	globaltest.MustStatus(t, r, http.StatusCreated)
	// A chargeback after the refund changes nothing more.
	r = c.Do(t, "POST", "/payments/dev/checkout/"+co.CheckoutRef+"/dispute", globaltest.AdminToken, nil)
	globaltest.MustStatus(t, r, http.StatusOK)
	var dup payments.DevDelivery
	r.Decode(t, &dup)
	if dup.Outcome != payments.OutcomeDuplicate {
		t.Fatalf("dispute after refund: %s", dup.Outcome)
	}
	// The next top-up pays the debt first.
	co2 := checkout(t, c, p, "buy-gems-2", "gems_100")
	globaltest.MustStatus(t, c.Do(t, "POST", "/payments/dev/checkout/"+co2.CheckoutRef+"/complete", p.Access, nil), http.StatusOK)
	if b = balances(t, c, p); b.Balances["gems"] != 40 || b.Debts != nil {
		t.Fatalf("after the second top-up: %+v, want 40 gems and no debt", b)
	}
	var status string
	if err := c.DB.Pool.QueryRow(context.Background(), `SELECT status FROM transactions WHERE id = $1`, co.TransactionID).Scan(&status); err != nil || status != "refunded" {
		t.Fatalf("refunded top-up row status %q (%v)", status, err)
	}
	var audits int
	if err := c.DB.Pool.QueryRow(context.Background(), `SELECT count(*) FROM audit_log WHERE kind = 'economy.payment' AND player_id = $1`, p.ID).Scan(&audits); err != nil || audits != 3 {
		t.Fatalf("%d payment audit rows, want 3 (paid, refunded, paid)", audits)
	}
	reconcile(t, c, p.ID)
}

func TestWebhookReorderedAndRepeated(t *testing.T) {
	c := startCore(t)
	now := time.Now()
	t.Run("refund before payment", func(t *testing.T) {
		p := c.Guest(t)
		co := checkout(t, c, p, "k", "gems_550")
		pi := payments.DevPaymentRef(co.CheckoutRef)
		refund := event(t, "evt_r1", "charge.refunded", payments.ChargeObject("ch_x", pi, 499, "usd"))
		if got := outcome(t, deliver(t, c, refund, now)); got != payments.OutcomeParked {
			t.Fatalf("early refund: %s", got)
		}
		if b := balances(t, c, p); b.Balances["gems"] != 0 {
			t.Fatalf("early refund changed the wallet: %+v", b)
		}
		paid := event(t, "evt_p1", "checkout.session.completed", payments.SessionObject(co.CheckoutRef, pi, co.TransactionID, 499, "usd", "paid"))
		if got := outcome(t, deliver(t, c, paid, now)); got != payments.OutcomeApplied {
			t.Fatalf("payment: %s", got)
		}
		// Credited and reversed in one go: nothing to spend, no debt.
		if b := balances(t, c, p); b.Balances["gems"] != 0 || b.Debts != nil {
			t.Fatalf("after payment with a parked refund: %+v", b)
		}
		// Every later repetition changes nothing.
		for _, ev := range [][]byte{refund, paid, event(t, "evt_p2", "checkout.session.completed", payments.SessionObject(co.CheckoutRef, pi, co.TransactionID, 499, "usd", "paid"))} {
			if got := outcome(t, deliver(t, c, ev, now)); got != payments.OutcomeDuplicate {
				t.Fatalf("repeat: %s", got)
			}
		}
		if b := balances(t, c, p); b.Balances["gems"] != 0 {
			t.Fatalf("repeats changed the wallet: %+v", b)
		}
		reconcile(t, c, p.ID)
	})
	t.Run("paid twice under two event ids", func(t *testing.T) {
		p := c.Guest(t)
		co := checkout(t, c, p, "k", "gems_100")
		pi := payments.DevPaymentRef(co.CheckoutRef)
		for i, id := range []string{"evt_a", "evt_b"} {
			got := outcome(t, deliver(t, c, event(t, id, "checkout.session.async_payment_succeeded", payments.SessionObject(co.CheckoutRef, pi, co.TransactionID, 99, "usd", "paid")), now))
			if want := []string{payments.OutcomeApplied, payments.OutcomeDuplicate}[i]; got != want {
				t.Fatalf("delivery %d: %s, want %s", i, got, want)
			}
		}
		if b := balances(t, c, p); b.Balances["gems"] != 100 {
			t.Fatalf("gems %d, want 100", b.Balances["gems"])
		}
	})
	t.Run("expired then paid late", func(t *testing.T) {
		p := c.Guest(t)
		co := checkout(t, c, p, "k", "gems_100")
		if got := outcome(t, deliver(t, c, event(t, "evt_e1", "checkout.session.expired", payments.SessionObject(co.CheckoutRef, "", co.TransactionID, 99, "usd", "unpaid")), now)); got != payments.OutcomeApplied {
			t.Fatalf("expiry: %s", got)
		}
		got := outcome(t, deliver(t, c, event(t, "evt_e2", "checkout.session.completed", payments.SessionObject(co.CheckoutRef, "pi_late", co.TransactionID, 99, "usd", "paid")), now))
		if got != payments.OutcomeApplied || balances(t, c, p).Balances["gems"] != 100 {
			t.Fatalf("late payment: %s", got)
		}
		reconcile(t, c, p.ID)
	})
	t.Run("amount mismatch", func(t *testing.T) {
		p := c.Guest(t)
		co := checkout(t, c, p, "k", "gems_1200")
		got := outcome(t, deliver(t, c, event(t, "evt_m1", "checkout.session.completed", payments.SessionObject(co.CheckoutRef, "pi_m", co.TransactionID, 1, "usd", "paid")), now))
		if got != payments.OutcomeMismatch || balances(t, c, p).Balances["gems"] != 0 {
			t.Fatalf("underpaid: %s", got)
		}
	})
	t.Run("unknown checkout and ignored types", func(t *testing.T) {
		if got := outcome(t, deliver(t, c, event(t, "evt_u1", "checkout.session.completed", payments.SessionObject("cs_nobody", "pi_n", "", 99, "usd", "paid")), now)); got != payments.OutcomeUnknown {
			t.Fatalf("unknown checkout: %s", got)
		}
		if got := outcome(t, deliver(t, c, event(t, "evt_i1", "customer.created", map[string]any{"id": "cus_1"}), now)); got != payments.OutcomeIgnored {
			t.Fatalf("other event type: %s", got)
		}
		if r := c.Do(t, "POST", "/payments/webhook/stripe", "", []byte(`{}`)); r.Status != http.StatusNotFound {
			t.Fatalf("webhook of an unconfigured provider: %d", r.Status)
		}
	})
}

func TestConcurrentDeliveriesCreditOnce(t *testing.T) {
	c := startCore(t)
	p := c.Guest(t)
	co := checkout(t, c, p, "k", "gems_100")
	payload := event(t, "evt_c1", "checkout.session.completed", payments.SessionObject(co.CheckoutRef, "pi_c", co.TransactionID, 99, "usd", "paid"))
	const deliveries = 8
	var wg sync.WaitGroup
	got := make([]string, deliveries)
	for i := range deliveries {
		wg.Add(1)
		go func() { defer wg.Done(); got[i] = outcome(t, deliver(t, c, payload, time.Now())) }()
	}
	wg.Wait()
	applied := 0
	for _, o := range got {
		if o == payments.OutcomeApplied {
			applied++
		}
	}
	if applied != 1 || balances(t, c, p).Balances["gems"] != 100 {
		t.Fatalf("outcomes %v", got)
	}
	reconcile(t, c, p.ID)
}

func TestTopUpsDisabledByDefault(t *testing.T) {
	c := globaltest.Start(t)
	p := c.Guest(t)
	r := c.Do(t, "POST", "/store/checkout", p.Access, payments.CheckoutBody{OfferID: "gems_100"}, economy.IdempotencyHeader, "k")
	if r.Status != http.StatusServiceUnavailable {
		t.Fatalf("checkout without a provider: %d %s", r.Status, r.Body)
	}
	if r = c.Do(t, "POST", "/payments/webhook/dev", "", []byte(`{}`)); r.Status != http.StatusNotFound {
		t.Fatalf("dev webhook without the dev provider: %d", r.Status)
	}
	if r = c.Do(t, "POST", "/payments/dev/checkout/cs_x/complete", p.Access, nil); r.Status != http.StatusNotFound {
		t.Fatalf("dev endpoints without the dev provider: %d", r.Status)
	}
}

// TestWebhookSerializationFailuresRetried injects real serialization
// failures (a trigger on the event insert, counted by a sequence, which
// survives rollbacks) and checks the delivery still credits exactly once.
func TestWebhookSerializationFailuresRetried(t *testing.T) {
	c := startCore(t)
	if c.DB.Dialect != db.Postgres {
		t.Skip("fault injection uses a PL/pgSQL trigger")
	}
	p := c.Guest(t)
	co := checkout(t, c, p, "k", "gems_100")
	ctx := context.Background()
	const injected = 4
	for _, s := range []string{
		`CREATE SEQUENCE fail_seq`,
		fmt.Sprintf(`CREATE FUNCTION fail_fn() RETURNS trigger LANGUAGE plpgsql AS $$
			BEGIN
				IF nextval('fail_seq') <= %d THEN RAISE EXCEPTION 'injected' USING ERRCODE = '40001'; END IF;
				RETURN NEW;
			END $$`, injected),
		`CREATE TRIGGER fail_trg BEFORE INSERT ON payment_events FOR EACH ROW EXECUTE FUNCTION fail_fn()`,
	} {
		if _, err := c.DB.Pool.Exec(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	payload := event(t, "evt_f1", "checkout.session.completed", payments.SessionObject(co.CheckoutRef, "pi_f", co.TransactionID, 99, "usd", "paid"))
	if got := outcome(t, deliver(t, c, payload, time.Now())); got != payments.OutcomeApplied {
		t.Fatalf("outcome %s", got)
	}
	var used int64
	if err := c.DB.Pool.QueryRow(ctx, `SELECT last_value FROM fail_seq`).Scan(&used); err != nil || used != injected+1 {
		t.Fatalf("event insert ran %d times, want %d (%v)", used, injected+1, err)
	}
	if got := outcome(t, deliver(t, c, payload, time.Now())); got != payments.OutcomeDuplicate {
		t.Fatalf("redelivery: %s", got)
	}
	if b := balances(t, c, p); b.Balances["gems"] != 100 {
		t.Fatalf("gems %d, want 100", b.Balances["gems"])
	}
	reconcile(t, c, p.ID)
}
