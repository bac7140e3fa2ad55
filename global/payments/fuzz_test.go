package payments_test

import (
	"bytes"
	"crypto/sha256"
	"testing"
	"time"

	"github.com/atollgg/atoll/global/payments"
	"github.com/atollgg/atoll/internal/httpx"
)

func FuzzParseSignatureHeader(f *testing.F) {
	payload := []byte(`{"id":"evt_1"}`)
	f.Add(payments.Sign(payload, time.Unix(1_700_000_000, 0), "whsec_a", "whsec_b"))
	f.Add("t=1700000000,v0=00,v1=zz")
	f.Add("t=,v1=")
	f.Add(",,,=,t=1,t=2")
	f.Add("t=99999999999999999999,v1=" + string(bytes.Repeat([]byte("a"), 64)))
	f.Fuzz(func(t *testing.T, h string) {
		sh, err := payments.ParseSignatureHeader(h)
		if err != nil {
			return
		}
		if sh.Timestamp <= 0 || len(sh.V1) == 0 || len(sh.V1) > 8 {
			t.Fatalf("accepted %q as %+v", h, sh)
		}
		for _, s := range sh.V1 {
			if len(s) != sha256.Size {
				t.Fatalf("accepted a %d-byte signature", len(s))
			}
		}
		// A forged header never verifies against a secret it was not made with.
		if err := payments.VerifySignature(payload, h, []string{"whsec_fuzz_secret_not_in_corpus"}, time.Unix(sh.Timestamp, 0), 0); err == nil {
			t.Fatalf("%q verified without the secret", h)
		}
	})
}

func FuzzSignRoundTrip(f *testing.F) {
	f.Add([]byte(`{"id":"evt_1"}`), int64(1_700_000_000), "whsec_a")
	f.Fuzz(func(t *testing.T, payload []byte, ts int64, secret string) {
		if ts <= 0 || ts > 1<<40 {
			return
		}
		at := time.Unix(ts, 0)
		if err := payments.VerifySignature(payload, payments.Sign(payload, at, secret), []string{secret}, at, 0); err != nil {
			t.Fatalf("own signature refused: %v", err)
		}
	})
}

func FuzzParseStripeEvent(f *testing.F) {
	for _, obj := range []map[string]any{
		payments.SessionObject("cs_1", "pi_1", "7d0b1a9e-3c3f-4a8e-9a57-8d9f2b6c1e01", 99, "usd", "paid"),
		payments.ChargeObject("ch_1", "pi_1", 99, "usd"),
		payments.DisputeObject("dp_1", "ch_1", "pi_1", 99, "usd"),
	} {
		for _, typ := range []string{"checkout.session.completed", "checkout.session.expired", "charge.refunded", "charge.dispute.created"} {
			b, _ := payments.StripeEventJSON("evt_1", typ, time.Unix(1, 0), obj)
			f.Add(b)
		}
	}
	f.Add([]byte(`{"id":"e","type":"charge.refunded","data":{"object":{"id":"c","payment_intent":{"id":7}}}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		ev, err := payments.ParseStripeEvent(data)
		if err != nil {
			return
		}
		if ev.ID == "" || ev.Type == "" {
			t.Fatalf("accepted an event without id or type: %+v", ev)
		}
		switch ev.Kind {
		case payments.EventPaid:
			if ev.CheckoutRef == "" || ev.PaymentRef == "" {
				t.Fatalf("paid event without references: %+v", ev)
			}
		case payments.EventFailed:
			if ev.CheckoutRef == "" {
				t.Fatalf("failed event without checkout: %+v", ev)
			}
		case payments.EventRefunded, payments.EventDisputed:
			if ev.PaymentRef == "" {
				t.Fatalf("reversal without payment: %+v", ev)
			}
		}
	})
}

func FuzzCheckoutBody(f *testing.F) {
	f.Add([]byte(`{"offer_id":"gems_100"}`))
	f.Add([]byte(`{"offer_id":5}`))
	f.Add([]byte(`{"offer_id":"a","x":1}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var b payments.CheckoutBody
		if err := httpx.DecodeStrict(bytes.NewReader(data), &b); err != nil {
			return
		}
		var again payments.CheckoutBody
		if err := httpx.DecodeStrict(bytes.NewReader(data), &again); err != nil || again != b {
			t.Fatal("decoding is not deterministic")
		}
	})
}
