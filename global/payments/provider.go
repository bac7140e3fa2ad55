package payments

import (
	"context"
	"net/http"
	"time"

	"github.com/atollgg/atoll/global/economy"
)

// Provider is a payment gateway.
type Provider interface {
	// Name is the provider's path segment in /payments/webhook/{provider}.
	Name() string
	// CreateCheckout starts a hosted checkout (the gateway collects card
	// data, never Atoll) and returns its reference and the URL to send the
	// player to. It must be idempotent on req.IdempotencyKey.
	CreateCheckout(ctx context.Context, req CheckoutRequest) (Checkout, error)
	// VerifyWebhook authenticates one webhook delivery and decodes its event.
	VerifyWebhook(header http.Header, payload []byte, now time.Time) (Event, error)
}

// CheckoutRequest is what a provider needs to start a checkout.
type CheckoutRequest struct {
	// TransactionID is the pending ledger row; the gateway echoes it back.
	TransactionID string
	PlayerID      string
	Offer         economy.Offer
	// IdempotencyKey makes a retried creation return the same checkout.
	IdempotencyKey string
}

// Checkout is a started checkout.
type Checkout struct {
	// Ref is the gateway's checkout id (Stripe: cs_...).
	Ref string
	// URL is the hosted payment page.
	URL string
}

// EventKind is what an event means for a top-up.
type EventKind int

// Event kinds.
const (
	// EventIgnored is any event Atoll does not act on.
	EventIgnored EventKind = iota
	// EventPaid: the checkout's payment succeeded.
	EventPaid
	// EventFailed: the checkout expired or its payment failed.
	EventFailed
	// EventRefunded: the payment was refunded.
	EventRefunded
	// EventDisputed: the payment was charged back.
	EventDisputed
	// EventDisputeWon: a chargeback was decided for the merchant; the
	// money is back.
	EventDisputeWon
)

func (k EventKind) String() string {
	switch k {
	case EventPaid:
		return "paid"
	case EventFailed:
		return "failed"
	case EventRefunded:
		return "refunded"
	case EventDisputed:
		return "disputed"
	case EventDisputeWon:
		return "dispute_won"
	}
	return "ignored"
}

// Event is a verified gateway event, normalised.
type Event struct {
	// ID is the gateway's event id; a redelivery carries the same one.
	ID   string
	Type string
	Kind EventKind
	// CheckoutRef identifies the checkout (paid and failed events).
	CheckoutRef string
	// PaymentRef identifies the payment (Stripe: the PaymentIntent, pi_...),
	// present on every kind but failed.
	PaymentRef string
	// TransactionID is Atoll's transaction id echoed by the gateway, if any.
	TransactionID string
	// ObjectRef is the event object's own id (a charge or dispute id).
	ObjectRef string
	// Amount and Currency are what the gateway says was paid or reversed.
	Amount   int64
	Currency string
}
