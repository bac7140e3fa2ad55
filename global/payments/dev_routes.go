package payments

import (
	"net/http"

	"github.com/atollgg/atoll/internal/authn"
	"github.com/atollgg/atoll/internal/httpx"
)

// devActionKind is what the development gateway simulates.
type devActionKind int

const (
	devComplete devActionKind = iota
	devExpire
	devRefund
	devDispute
)

// DevDelivery is the answer of the development gateway's endpoints: the
// event it signed and delivered, and what the webhook made of it. Payload
// and Signature can be sent again to POST /payments/webhook/dev to replay.
type DevDelivery struct {
	EventID   string `json:"event_id"`
	Type      string `json:"type"`
	Outcome   string `json:"outcome"`
	Payload   string `json:"payload"`
	Signature string `json:"signature"`
}

// devAction builds, signs and delivers one gateway event about checkout
// {ref}, through the same verification path as a real delivery.
func (s *Service) devAction(kind devActionKind) httpx.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		ctx := r.Context()
		ref := r.PathValue("ref")
		p, err := scanPayment(s.db.Pool.QueryRow(ctx, `SELECT `+paymentColumns+` FROM payments WHERE provider = $1 AND checkout_ref = $2`, s.dev.Name(), ref))
		if err != nil {
			return err
		}
		// Players act on their own checkouts only; admins on any.
		if caller := authn.PlayerID(ctx); p == nil || (caller != "" && caller != p.PlayerID) {
			return httpx.NotFound("no such checkout")
		}
		var typ string
		var obj map[string]any
		switch kind {
		case devComplete:
			typ, obj = "checkout.session.completed", SessionObject(ref, DevPaymentRef(ref), p.ID, p.Price.Amount, p.Price.Currency, "paid")
		case devExpire:
			typ, obj = "checkout.session.expired", SessionObject(ref, "", p.ID, p.Price.Amount, p.Price.Currency, "unpaid")
		case devRefund:
			typ, obj = "charge.refunded", ChargeObject(DevChargeRef(ref), DevPaymentRef(ref), p.Price.Amount, p.Price.Currency)
		case devDispute:
			typ, obj = "charge.dispute.created", DisputeObject(randomID("dp_dev_"), DevChargeRef(ref), DevPaymentRef(ref), p.Price.Amount, p.Price.Currency)
		}
		now := s.now()
		id := randomID("evt_dev_")
		payload, err := StripeEventJSON(id, typ, now, obj)
		if err != nil {
			return err
		}
		sig := s.dev.Sign(payload, now)
		h := http.Header{}
		h.Set(SignatureHeader, sig)
		res, err := s.Receive(ctx, h, payload)
		if err != nil {
			return err
		}
		httpx.WriteJSON(w, http.StatusOK, DevDelivery{EventID: res.EventID, Type: typ, Outcome: res.Outcome, Payload: string(payload), Signature: sig})
		return nil
	}
}
