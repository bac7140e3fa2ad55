package payments_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/atollgg/atoll/global/economy"
	"github.com/atollgg/atoll/global/payments"
)

// TestStripeCheckout runs the Stripe provider against a local HTTP server
// that checks the request as Stripe's API would.
func TestStripeCheckout(t *testing.T) {
	offer := economy.Offer{ID: "gems_100", Name: "Pouch of Gems", Currency: "gems", Amount: 100, Price: economy.Money{Amount: 99, Currency: "usd"}}
	const txID = "7d0b1a9e-3c3f-4a8e-9a57-8d9f2b6c1e01"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/checkout/sessions" || r.Method != http.MethodPost || r.Header.Get("Authorization") != "Bearer sk_test_123" ||
			r.Header.Get("Idempotency-Key") != "idem-1" {
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"error":{"type":"invalid_request_error","message":"bad request"}}`))
			return
		}
		if err := r.ParseForm(); err != nil {
			t.Error(err)
		}
		for k, want := range map[string]string{
			"mode": "payment", "client_reference_id": txID, "success_url": "https://game.example/ok", "cancel_url": "https://game.example/cancel",
			"line_items[0][price_data][unit_amount]": "99", "line_items[0][price_data][currency]": "usd",
			"payment_intent_data[metadata][atoll_transaction_id]": txID,
		} {
			if got := r.PostForm.Get(k); got != want {
				t.Errorf("form %s = %q, want %q", k, got, want)
			}
		}
		_, _ = w.Write([]byte(`{"id":"cs_test_1","object":"checkout.session","url":"https://checkout.stripe.com/c/pay/cs_test_1"}`))
	}))
	defer srv.Close()

	s, err := payments.NewStripe(payments.StripeConfig{SecretKey: "sk_test_123", WebhookSecrets: []string{"whsec_1"}, APIURL: srv.URL,
		SuccessURL: "https://game.example/ok", CancelURL: "https://game.example/cancel"})
	if err != nil {
		t.Fatal(err)
	}
	co, err := s.CreateCheckout(context.Background(), payments.CheckoutRequest{TransactionID: txID, Offer: offer, IdempotencyKey: "idem-1"})
	if err != nil || co.Ref != "cs_test_1" || !strings.HasPrefix(co.URL, "https://checkout.stripe.com/") {
		t.Fatalf("checkout %+v, %v", co, err)
	}
	if _, err := s.CreateCheckout(context.Background(), payments.CheckoutRequest{TransactionID: txID, Offer: offer, IdempotencyKey: "other"}); err == nil ||
		!strings.Contains(err.Error(), "invalid_request_error") {
		t.Fatalf("API error not reported: %v", err)
	}

	payload, _ := payments.StripeEventJSON("evt_1", "checkout.session.completed", time.Now(),
		payments.SessionObject("cs_test_1", "pi_1", txID, 99, "usd", "paid"))
	h := http.Header{}
	h.Set(payments.SignatureHeader, payments.Sign(payload, time.Now(), "whsec_1"))
	if ev, err := s.VerifyWebhook(h, payload, time.Now()); err != nil || ev.Kind != payments.EventPaid || ev.CheckoutRef != "cs_test_1" {
		t.Fatalf("webhook: %+v %v", ev, err)
	}
	h.Set(payments.SignatureHeader, payments.Sign(payload, time.Now(), "whsec_other"))
	if _, err := s.VerifyWebhook(h, payload, time.Now()); err == nil {
		t.Fatal("a webhook signed with another secret verified")
	}

	if _, err := payments.NewStripe(payments.StripeConfig{}); err == nil {
		t.Fatal("an empty Stripe configuration was accepted")
	}
}

func TestSettingsValidate(t *testing.T) {
	for _, tc := range []struct {
		s  payments.Settings
		ok bool
	}{
		{payments.Settings{}, true},
		{payments.Settings{Provider: "dev"}, true},
		{payments.Settings{Provider: "stripe"}, false},
		{payments.Settings{Provider: "stripe", StripeSecretKey: "sk", WebhookSecrets: []string{"w"}, SuccessURL: "https://a", CancelURL: "https://b"}, true},
		{payments.Settings{Provider: "paypal"}, false},
		{payments.Settings{Provider: "dev", WebhookTolerance: -time.Second}, false},
	} {
		if err := tc.s.Validate(); (err == nil) != tc.ok {
			t.Errorf("%+v: err %v, want ok=%v", tc.s, err, tc.ok)
		}
	}
	if got := payments.ParseSecrets(" whsec_a, ,whsec_b "); len(got) != 2 || got[1] != "whsec_b" {
		t.Fatalf("ParseSecrets: %q", got)
	}
}
