package payments

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strings"
	"time"
)

// Dev is the development gateway: checkouts are references Atoll makes up,
// "paying" is an HTTP call, and it signs its webhooks with the Stripe
// scheme and its own secret, so the whole verification and settlement path
// runs in demos and tests without a real gateway. Never enable it in
// production: anyone with a player account could mint premium currency.
type Dev struct {
	secret    string
	publicURL string
	tolerance time.Duration
}

// devSecretBytes sizes a generated dev signing secret: 256 bits, the
// strength of HMAC-SHA256 and of Stripe's own secrets.
const devSecretBytes = 32

// NewDev returns the development gateway. An empty secret generates one
// for this process.
func NewDev(secret, publicURL string, tolerance time.Duration) *Dev {
	if secret == "" {
		var b [devSecretBytes]byte
		_, _ = rand.Read(b[:])
		secret = "whsec_dev_" + hex.EncodeToString(b[:])
	}
	return &Dev{secret: secret, publicURL: strings.TrimRight(publicURL, "/"), tolerance: tolerance}
}

// Name is "dev".
func (d *Dev) Name() string { return "dev" }

// CreateCheckout derives the checkout reference from the idempotency key,
// so a retried creation returns the same checkout, as Stripe does.
func (d *Dev) CreateCheckout(_ context.Context, req CheckoutRequest) (Checkout, error) {
	ref := "cs_dev_" + shortHash(req.IdempotencyKey)
	return Checkout{Ref: ref, URL: d.publicURL + "/payments/dev/checkout/" + ref + "/complete"}, nil
}

// VerifyWebhook checks the signature with the dev secret and decodes the event.
func (d *Dev) VerifyWebhook(h http.Header, payload []byte, now time.Time) (Event, error) {
	if err := VerifySignature(payload, h.Get(SignatureHeader), []string{d.secret}, now, d.tolerance); err != nil {
		return Event{}, err
	}
	return ParseStripeEvent(payload)
}

// Sign returns the signature header the dev gateway sends with payload.
func (d *Dev) Sign(payload []byte, ts time.Time) string { return Sign(payload, ts, d.secret) }

// DevPaymentRef is the PaymentIntent id the dev gateway gives a checkout.
func DevPaymentRef(checkoutRef string) string { return "pi_dev_" + shortHash(checkoutRef) }

// DevChargeRef is the Charge id the dev gateway gives a checkout's payment.
func DevChargeRef(checkoutRef string) string { return "ch_dev_" + shortHash(checkoutRef) }

func shortHash(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:12])
}

func randomID(prefix string) string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}
