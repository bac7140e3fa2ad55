package payments_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/atollgg/atoll/global/payments"
)

func TestVerifySignature(t *testing.T) {
	payload := []byte(`{"id":"evt_1","type":"checkout.session.completed"}`)
	now := time.Unix(1_700_000_000, 0)
	good := payments.Sign(payload, now, "whsec_a")
	other := payments.Sign(payload, now, "whsec_b")
	goodSig := strings.TrimPrefix(good, "t=1700000000,")
	otherSig := strings.TrimPrefix(other, "t=1700000000,")
	cases := []struct {
		name    string
		payload []byte
		header  string
		secrets []string
		at      time.Time
		want    error
	}{
		{"valid", payload, good, []string{"whsec_a"}, now, nil},
		{"one of several signatures", payload, "t=1700000000," + otherSig + "," + goodSig, []string{"whsec_a"}, now, nil},
		{"secret rotation", payload, other, []string{"whsec_a", "whsec_b"}, now, nil},
		{"v0 and unknown schemes are skipped", payload, "t=1700000000,v0=abcd,x=y," + goodSig, []string{"whsec_a"}, now, nil},
		{"within tolerance", payload, good, []string{"whsec_a"}, now.Add(4 * time.Minute), nil},
		{"wrong secret", payload, good, []string{"whsec_b"}, now, payments.ErrBadSignature},
		{"tampered payload", []byte(`{"id":"evt_2","type":"checkout.session.completed"}`), good, []string{"whsec_a"}, now, payments.ErrBadSignature},
		{"other timestamp", payload, "t=1700000001," + goodSig, []string{"whsec_a"}, now, payments.ErrBadSignature},
		{"too old", payload, good, []string{"whsec_a"}, now.Add(6 * time.Minute), payments.ErrTimestampSkewed},
		{"from the future", payload, good, []string{"whsec_a"}, now.Add(-6 * time.Minute), payments.ErrTimestampSkewed},
		{"missing", payload, "", []string{"whsec_a"}, now, payments.ErrNoSignature},
		{"no timestamp", payload, goodSig, []string{"whsec_a"}, now, payments.ErrMalformedHeader},
		{"timestamp twice", payload, "t=1700000000,t=1700000000," + goodSig, []string{"whsec_a"}, now, payments.ErrMalformedHeader},
		{"no v1", payload, "t=1700000000,v0=00", []string{"whsec_a"}, now, payments.ErrMalformedHeader},
		{"bad hex", payload, "t=1700000000,v1=zz", []string{"whsec_a"}, now, payments.ErrMalformedHeader},
		{"short signature", payload, "t=1700000000,v1=abcd", []string{"whsec_a"}, now, payments.ErrMalformedHeader},
		{"negative timestamp", payload, "t=-5," + goodSig, []string{"whsec_a"}, now, payments.ErrMalformedHeader},
		{"not key=value", payload, "t=1700000000,garbage," + goodSig, []string{"whsec_a"}, now, payments.ErrMalformedHeader},
		{"too many signatures", payload, "t=1700000000" + strings.Repeat(","+otherSig, 9), []string{"whsec_a"}, now, payments.ErrMalformedHeader},
		{"too long", payload, "t=1700000000," + strings.Repeat("x", 3000), []string{"whsec_a"}, now, payments.ErrMalformedHeader},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := payments.VerifySignature(tc.payload, tc.header, tc.secrets, tc.at, 0)
			if (tc.want == nil) != (err == nil) || (tc.want != nil && !errors.Is(err, tc.want)) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
		})
	}
	if err := payments.VerifySignature(payload, good, nil, now, 0); err == nil {
		t.Fatal("no secrets must verify nothing")
	}
}

func TestParseStripeEvent(t *testing.T) {
	txID := "7d0b1a9e-3c3f-4a8e-9a57-8d9f2b6c1e01"
	cases := []struct {
		name    string
		payload string
		kind    payments.EventKind
		check   func(payments.Event) bool
		wantErr bool
	}{
		{"paid", `{"id":"evt_1","type":"checkout.session.completed","data":{"object":{"id":"cs_1","client_reference_id":"` + txID + `","payment_intent":"pi_1","amount_total":99,"currency":"usd","payment_status":"paid","extra":{"x":1}}}}`,
			payments.EventPaid, func(e payments.Event) bool {
				return e.CheckoutRef == "cs_1" && e.PaymentRef == "pi_1" && e.Amount == 99 && e.Currency == "usd" && e.TransactionID == txID
			}, false},
		{"expanded payment intent", `{"id":"evt_2","type":"checkout.session.async_payment_succeeded","data":{"object":{"id":"cs_1","payment_intent":{"id":"pi_9","object":"payment_intent"},"amount_total":99,"currency":"usd","payment_status":"paid"}}}`,
			payments.EventPaid, func(e payments.Event) bool { return e.PaymentRef == "pi_9" && e.TransactionID == "" }, false},
		{"unpaid waits", `{"id":"evt_3","type":"checkout.session.completed","data":{"object":{"id":"cs_1","payment_intent":"pi_1","payment_status":"unpaid"}}}`,
			payments.EventIgnored, nil, false},
		{"expired", `{"id":"evt_4","type":"checkout.session.expired","data":{"object":{"id":"cs_1","payment_intent":null}}}`,
			payments.EventFailed, func(e payments.Event) bool { return e.CheckoutRef == "cs_1" }, false},
		{"refund", `{"id":"evt_5","type":"charge.refunded","data":{"object":{"id":"ch_1","payment_intent":"pi_1","amount_refunded":99,"currency":"usd"}}}`,
			payments.EventRefunded, func(e payments.Event) bool { return e.PaymentRef == "pi_1" && e.ObjectRef == "ch_1" && e.Amount == 99 }, false},
		{"dispute", `{"id":"evt_6","type":"charge.dispute.created","data":{"object":{"id":"dp_1","charge":"ch_1","payment_intent":"pi_1","amount":99,"currency":"usd"}}}`,
			payments.EventDisputed, func(e payments.Event) bool { return e.PaymentRef == "pi_1" && e.ObjectRef == "dp_1" }, false},
		{"charge without payment intent", `{"id":"evt_7","type":"charge.refunded","data":{"object":{"id":"ch_1"}}}`, payments.EventIgnored, nil, false},
		{"other type", `{"id":"evt_8","type":"customer.created","data":{"object":{"id":"cus_1"}}}`, payments.EventIgnored, nil, false},
		{"client reference not a uuid", `{"id":"evt_9","type":"checkout.session.completed","data":{"object":{"id":"cs_1","client_reference_id":"x","payment_intent":"pi_1","payment_status":"paid"}}}`,
			payments.EventPaid, func(e payments.Event) bool { return e.TransactionID == "" }, false},
		{"no id", `{"type":"charge.refunded"}`, 0, nil, true},
		{"object without id", `{"id":"evt_10","type":"charge.refunded","data":{"object":{}}}`, 0, nil, true},
		{"not json", `{"id":`, 0, nil, true},
		{"payment intent of the wrong type", `{"id":"evt_11","type":"charge.refunded","data":{"object":{"id":"ch_1","payment_intent":5}}}`, 0, nil, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ev, err := payments.ParseStripeEvent([]byte(tc.payload))
			if tc.wantErr {
				if !errors.Is(err, payments.ErrMalformedEvent) {
					t.Fatalf("err = %v, want ErrMalformedEvent", err)
				}
				return
			}
			if err != nil || ev.Kind != tc.kind || (tc.check != nil && !tc.check(ev)) {
				t.Fatalf("event %+v, err %v; want kind %v", ev, err, tc.kind)
			}
		})
	}
}
