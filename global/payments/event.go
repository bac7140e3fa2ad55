package payments

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
)

// maxRefLength bounds gateway ids we store: Stripe's are under 100 bytes.
const maxRefLength = 255

// ErrMalformedEvent is a correctly signed payload we cannot read.
var ErrMalformedEvent = errors.New("malformed event")

// expandable is a Stripe field that holds an id or, when expanded, an
// object with an id.
type expandable string

func (e *expandable) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case bytes.Equal(b, []byte("null")):
		*e = ""
		return nil
	case len(b) > 0 && b[0] == '{':
		var obj struct {
			ID string `json:"id"`
		}
		if err := json.Unmarshal(b, &obj); err != nil {
			return err
		}
		*e = expandable(obj.ID)
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	*e = expandable(s)
	return nil
}

type stripeEvent struct {
	ID   string `json:"id"`
	Type string `json:"type"`
	Data struct {
		Object json.RawMessage `json:"object"`
	} `json:"data"`
}

type stripeObject struct {
	ID                string            `json:"id"`
	ClientReferenceID *string           `json:"client_reference_id"`
	PaymentIntent     expandable        `json:"payment_intent"`
	PaymentStatus     string            `json:"payment_status"`
	AmountTotal       int64             `json:"amount_total"`
	Amount            int64             `json:"amount"`
	AmountRefunded    int64             `json:"amount_refunded"`
	Currency          string            `json:"currency"`
	Status            string            `json:"status"`
	Metadata          map[string]string `json:"metadata"`
}

// TransactionMetadata is the metadata key carrying Atoll's transaction id
// on gateway objects.
const TransactionMetadata = "atoll_transaction_id"

func validRef(s string) bool {
	if len(s) == 0 || len(s) > maxRefLength {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// ParseStripeEvent decodes a Stripe event. Unknown fields are allowed:
// Stripe adds fields without notice. Event types Atoll does not act on
// decode as EventIgnored.
func ParseStripeEvent(payload []byte) (Event, error) {
	var se stripeEvent
	if err := json.Unmarshal(payload, &se); err != nil {
		return Event{}, fmt.Errorf("%w: %v", ErrMalformedEvent, err)
	}
	if !validRef(se.ID) || !validRef(se.Type) {
		return Event{}, fmt.Errorf("%w: id and type are required", ErrMalformedEvent)
	}
	ev := Event{ID: se.ID, Type: se.Type}
	switch se.Type {
	case "checkout.session.completed", "checkout.session.async_payment_succeeded":
		ev.Kind = EventPaid
	case "checkout.session.expired", "checkout.session.async_payment_failed":
		ev.Kind = EventFailed
	case "charge.refunded":
		ev.Kind = EventRefunded
	case "charge.dispute.created":
		ev.Kind = EventDisputed
	case "charge.dispute.closed":
		ev.Kind = EventDisputeWon // unless lost, below
	default:
		return ev, nil
	}
	var obj stripeObject
	if len(se.Data.Object) == 0 || json.Unmarshal(se.Data.Object, &obj) != nil || !validRef(obj.ID) {
		return Event{}, fmt.Errorf("%w: %s needs a data.object with an id", ErrMalformedEvent, se.Type)
	}
	ev.ObjectRef = obj.ID
	ev.Currency = obj.Currency
	if obj.ClientReferenceID != nil {
		ev.TransactionID = *obj.ClientReferenceID
	}
	if ev.TransactionID == "" {
		ev.TransactionID = obj.Metadata[TransactionMetadata]
	}
	if u, err := uuid.Parse(ev.TransactionID); err == nil {
		ev.TransactionID = u.String()
	} else {
		ev.TransactionID = ""
	}
	pi := string(obj.PaymentIntent)
	if pi != "" && !validRef(pi) {
		return Event{}, fmt.Errorf("%w: bad payment_intent", ErrMalformedEvent)
	}
	ev.PaymentRef = pi
	switch ev.Kind {
	case EventPaid:
		// An unpaid session is waiting for an asynchronous payment method;
		// async_payment_succeeded follows.
		if obj.PaymentStatus != "paid" || pi == "" {
			ev.Kind = EventIgnored
			return ev, nil
		}
		ev.CheckoutRef, ev.Amount = obj.ID, obj.AmountTotal
	case EventFailed:
		ev.CheckoutRef = obj.ID
	case EventRefunded:
		ev.Amount = obj.AmountRefunded
	case EventDisputed:
		ev.Amount = obj.Amount
	case EventDisputeWon:
		ev.Amount = obj.Amount
		if obj.Status != "won" {
			// Lost: the chargeback already took the currency back.
			ev.Kind = EventIgnored
		}
	}
	if (ev.Kind == EventRefunded || ev.Kind == EventDisputed || ev.Kind == EventDisputeWon) && pi == "" {
		// A charge without a PaymentIntent was not made through a checkout.
		ev.Kind = EventIgnored
	}
	return ev, nil
}

// StripeEventJSON builds an event payload in Stripe's format, for the
// development provider and tests.
func StripeEventJSON(id, eventType string, created time.Time, object map[string]any) ([]byte, error) {
	return json.Marshal(map[string]any{
		"id": id, "object": "event", "type": eventType, "created": created.Unix(), "livemode": false,
		"data": map[string]any{"object": object},
	})
}

// SessionObject is a Checkout Session as Stripe sends it.
func SessionObject(checkoutRef, paymentRef, transactionID string, amount int64, currency, paymentStatus string) map[string]any {
	var pi any
	if paymentRef != "" {
		pi = paymentRef
	}
	return map[string]any{
		"id": checkoutRef, "object": "checkout.session", "client_reference_id": transactionID, "payment_intent": pi,
		"amount_total": amount, "currency": currency, "payment_status": paymentStatus, "mode": "payment",
		"metadata": map[string]string{TransactionMetadata: transactionID},
	}
}

// ChargeObject is a refunded Charge as Stripe sends it.
func ChargeObject(chargeRef, paymentRef string, amount int64, currency string) map[string]any {
	return map[string]any{
		"id": chargeRef, "object": "charge", "payment_intent": paymentRef, "amount": amount,
		"amount_refunded": amount, "refunded": true, "currency": currency,
	}
}

// PartialChargeObject is a Charge with refunded of its amount refunded so
// far, as Stripe sends it after a partial refund.
func PartialChargeObject(chargeRef, paymentRef string, amount, refunded int64, currency string) map[string]any {
	return map[string]any{
		"id": chargeRef, "object": "charge", "payment_intent": paymentRef, "amount": amount,
		"amount_refunded": refunded, "refunded": refunded >= amount, "currency": currency,
	}
}

// ClosedDisputeObject is a Dispute closed with status "won" or "lost".
func ClosedDisputeObject(disputeRef, chargeRef, paymentRef string, amount int64, currency, status string) map[string]any {
	return map[string]any{
		"id": disputeRef, "object": "dispute", "charge": chargeRef, "payment_intent": paymentRef, "amount": amount,
		"currency": currency, "reason": "fraudulent", "status": status,
	}
}

// DisputeObject is a Dispute as Stripe sends it.
func DisputeObject(disputeRef, chargeRef, paymentRef string, amount int64, currency string) map[string]any {
	return map[string]any{
		"id": disputeRef, "object": "dispute", "charge": chargeRef, "payment_intent": paymentRef, "amount": amount,
		"currency": currency, "reason": "fraudulent", "status": "needs_response",
	}
}
