package payments

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Stripe API limits.
const (
	// DefaultStripeAPIURL is Stripe's API.
	DefaultStripeAPIURL = "https://api.stripe.com"
	// stripeTimeout bounds one API call: the player is waiting on the
	// checkout request, and Stripe answers in well under a second.
	stripeTimeout = 10 * time.Second
	// maxStripeResponse bounds what we read of an API answer; a Checkout
	// Session object is a few KiB.
	maxStripeResponse = 1 << 20
)

// StripeConfig configures the Stripe provider.
type StripeConfig struct {
	// SecretKey is the API key (sk_live_… or sk_test_…). Required.
	SecretKey string
	// WebhookSecrets are the endpoint's signing secrets (whsec_…); several
	// during a rotation. Required.
	WebhookSecrets []string
	// APIURL is empty for DefaultStripeAPIURL.
	APIURL string
	// SuccessURL and CancelURL are where the hosted page sends the player
	// back. Required.
	SuccessURL, CancelURL string
	// Tolerance is the webhook timestamp tolerance; zero means DefaultTolerance.
	Tolerance time.Duration
	// Client is the HTTP client; nil means one with stripeTimeout.
	Client *http.Client
}

// Stripe is the Stripe Checkout provider.
type Stripe struct{ cfg StripeConfig }

// NewStripe checks cfg.
func NewStripe(cfg StripeConfig) (*Stripe, error) {
	var errs []error
	if cfg.SecretKey == "" {
		errs = append(errs, errors.New("stripe: secret key is required"))
	}
	if len(cfg.WebhookSecrets) == 0 {
		errs = append(errs, errors.New("stripe: webhook signing secret is required"))
	}
	if cfg.SuccessURL == "" || cfg.CancelURL == "" {
		errs = append(errs, errors.New("stripe: success and cancel URLs are required"))
	}
	if cfg.APIURL == "" {
		cfg.APIURL = DefaultStripeAPIURL
	}
	if u, err := url.Parse(cfg.APIURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		errs = append(errs, fmt.Errorf("stripe: API URL %q is not an http(s) URL", cfg.APIURL))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	cfg.APIURL = strings.TrimRight(cfg.APIURL, "/")
	if cfg.Client == nil {
		cfg.Client = &http.Client{Timeout: stripeTimeout}
	}
	return &Stripe{cfg: cfg}, nil
}

// Name is "stripe".
func (s *Stripe) Name() string { return "stripe" }

// CreateCheckout creates a Checkout Session in payment mode. Atoll's
// transaction id travels as client_reference_id and as metadata on the
// session and its PaymentIntent, so refunds and disputes can be matched.
func (s *Stripe) CreateCheckout(ctx context.Context, req CheckoutRequest) (Checkout, error) {
	f := url.Values{}
	f.Set("mode", "payment")
	f.Set("client_reference_id", req.TransactionID)
	f.Set("success_url", s.cfg.SuccessURL)
	f.Set("cancel_url", s.cfg.CancelURL)
	f.Set("line_items[0][quantity]", "1")
	f.Set("line_items[0][price_data][currency]", req.Offer.Price.Currency)
	f.Set("line_items[0][price_data][unit_amount]", strconv.FormatInt(req.Offer.Price.Amount, 10))
	f.Set("line_items[0][price_data][product_data][name]", req.Offer.Name)
	f.Set("metadata["+TransactionMetadata+"]", req.TransactionID)
	f.Set("metadata[atoll_offer_id]", req.Offer.ID)
	f.Set("payment_intent_data[metadata]["+TransactionMetadata+"]", req.TransactionID)
	r, err := http.NewRequestWithContext(ctx, http.MethodPost, s.cfg.APIURL+"/v1/checkout/sessions", strings.NewReader(f.Encode()))
	if err != nil {
		return Checkout{}, fmt.Errorf("stripe: %w", err)
	}
	r.Header.Set("Authorization", "Bearer "+s.cfg.SecretKey)
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.Header.Set("Idempotency-Key", req.IdempotencyKey)
	resp, err := s.cfg.Client.Do(r)
	if err != nil {
		return Checkout{}, fmt.Errorf("stripe: create checkout session: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxStripeResponse))
	if err != nil {
		return Checkout{}, fmt.Errorf("stripe: read response: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Error struct {
				Type    string `json:"type"`
				Code    string `json:"code"`
				Message string `json:"message"`
			} `json:"error"`
		}
		_ = json.Unmarshal(body, &e)
		return Checkout{}, fmt.Errorf("stripe: create checkout session: HTTP %d %s %s: %s", resp.StatusCode, e.Error.Type, e.Error.Code, e.Error.Message)
	}
	var cs struct {
		ID  string `json:"id"`
		URL string `json:"url"`
	}
	if err := json.Unmarshal(body, &cs); err != nil || !validRef(cs.ID) || cs.URL == "" {
		return Checkout{}, errors.New("stripe: checkout session response without id or url")
	}
	return Checkout{Ref: cs.ID, URL: cs.URL}, nil
}

// VerifyWebhook checks the Stripe-Signature header and decodes the event.
func (s *Stripe) VerifyWebhook(h http.Header, payload []byte, now time.Time) (Event, error) {
	if err := VerifySignature(payload, h.Get(SignatureHeader), s.cfg.WebhookSecrets, now, s.cfg.Tolerance); err != nil {
		return Event{}, err
	}
	return ParseStripeEvent(payload)
}
