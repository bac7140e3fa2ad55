package payments

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"

	"github.com/atollgg/atoll/global/audit"
	"github.com/atollgg/atoll/global/economy"
	"github.com/atollgg/atoll/internal/db"
	"github.com/atollgg/atoll/internal/httpx"
	"github.com/jackc/pgx/v5"
)

// maxWebhookBody bounds a webhook delivery. Stripe events are a few KiB;
// expanded objects can reach tens of KiB.
const maxWebhookBody = 256 << 10

// Outcomes of a webhook event, recorded in payment_events and returned to
// the gateway. Stable: dashboards match on them.
const (
	OutcomeApplied   = "applied"    // changed a payment
	OutcomeDuplicate = "duplicate"  // seen before, or the payment was already settled
	OutcomeIgnored   = "ignored"    // an event type Atoll does not act on
	OutcomeParked    = "parked"     // a reversal waiting for its payment to complete
	OutcomeUnknown   = "unknown"    // no payment matches
	OutcomeMismatch  = "mismatch"   // the amount paid differs from the offer's price
	OutcomeRefundDue = "refund_due" // paid for an erased account: recorded for a refund, nothing credited
)

// WebhookResponse is the answer to a webhook delivery.
type WebhookResponse struct {
	EventID string `json:"event_id"`
	Outcome string `json:"outcome"`
}

func (s *Service) webhook(w http.ResponseWriter, r *http.Request) error {
	if s.provider == nil || r.PathValue("provider") != s.provider.Name() {
		return httpx.NotFound("no such payment provider")
	}
	if err := httpx.LimitBody(w, r, maxWebhookBody); err != nil {
		return err
	}
	payload, err := io.ReadAll(r.Body)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return httpx.Errorf(http.StatusRequestEntityTooLarge, httpx.CodePayloadTooLarge, "webhook body larger than %d bytes", maxWebhookBody)
		}
		return httpx.BadRequest("could not read the body")
	}
	res, err := s.Receive(r.Context(), r.Header, payload)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, res)
	return nil
}

// Receive verifies one webhook delivery and applies its event exactly once.
// A bad signature is a 400 and changes nothing.
func (s *Service) Receive(ctx context.Context, header http.Header, payload []byte) (WebhookResponse, error) {
	if s.provider == nil {
		return WebhookResponse{}, httpx.NotFound("no payment provider is configured")
	}
	ev, err := s.provider.VerifyWebhook(header, payload, s.now())
	if err != nil {
		s.log.WarnContext(ctx, "webhook rejected", "provider", s.provider.Name(), "err", err)
		if errors.Is(err, ErrMalformedEvent) {
			return WebhookResponse{}, httpx.BadRequest("unreadable event")
		}
		return WebhookResponse{}, httpx.BadRequest("invalid webhook signature")
	}
	outcome := ""
	err = s.db.RunTx(ctx, func(ctx context.Context, tx pgx.Tx) (err error) {
		outcome, err = s.apply(ctx, tx, ev)
		return err
	})
	if db.IsUniqueViolation(err, "payment_events_pkey") {
		// The same event is being processed by a concurrent delivery.
		outcome, err = OutcomeDuplicate, nil
	}
	if err != nil {
		return WebhookResponse{}, fmt.Errorf("webhook %s: %w", ev.ID, err)
	}
	s.log.InfoContext(ctx, "webhook processed", "provider", s.provider.Name(), "event_id", ev.ID, "type", ev.Type, "outcome", outcome)
	return WebhookResponse{EventID: ev.ID, Outcome: outcome}, nil
}

// apply records ev and acts on it, all in tx: a replayed event finds its
// row and changes nothing.
func (s *Service) apply(ctx context.Context, tx pgx.Tx, ev Event) (string, error) {
	provider := s.provider.Name()
	tag, err := tx.Exec(ctx, `INSERT INTO payment_events (provider, event_id, type, checkout_ref, payment_ref, outcome)
		VALUES ($1, $2, $3, $4, $5, '') ON CONFLICT (provider, event_id) DO NOTHING`, provider, ev.ID, ev.Type, ev.CheckoutRef, ev.PaymentRef)
	if err != nil {
		return "", fmt.Errorf("record event: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return OutcomeDuplicate, nil
	}
	outcome, p, err := s.act(ctx, tx, ev)
	if err != nil {
		return "", err
	}
	if _, err := tx.Exec(ctx, `UPDATE payment_events SET outcome = $3 WHERE provider = $1 AND event_id = $2`, provider, ev.ID, outcome); err != nil {
		return "", fmt.Errorf("record event outcome: %w", err)
	}
	if outcome != OutcomeIgnored && outcome != OutcomeDuplicate {
		e := audit.Event{Kind: audit.PaymentEvent, Actor: "gateway:" + provider, Details: map[string]any{
			"event_id": ev.ID, "type": ev.Type, "outcome": outcome, "amount": ev.Amount, "currency": ev.Currency,
		}}
		if p != nil {
			e.PlayerID = p.PlayerID
			e.Details["transaction_id"] = p.ID
		}
		if err := audit.Write(ctx, tx, e); err != nil {
			return "", err
		}
	}
	return outcome, nil
}

// act moves the payment's state machine:
//
//	pending ─paid→ completed ─refund→ refunded
//	   │  ↑                  └dispute→ charged_back
//	   │  └──paid (late)── failed
//	   └─expired/failed→ failed
//
// A reversal of a payment not completed yet marks it reversed, so a late
// "paid" changes nothing; one that names no known payment is parked until
// the payment completes.
func (s *Service) act(ctx context.Context, tx pgx.Tx, ev Event) (string, *Payment, error) {
	provider := s.provider.Name()
	switch ev.Kind {
	case EventPaid, EventFailed:
		p, err := scanPayment(tx.QueryRow(ctx, `SELECT `+paymentColumns+` FROM payments WHERE provider = $1 AND checkout_ref = $2`, provider, ev.CheckoutRef))
		if err != nil || p == nil {
			return OutcomeUnknown, nil, err
		}
		if ev.Kind == EventFailed {
			if p.Status != "pending" {
				return OutcomeDuplicate, p, nil
			}
			if _, err := tx.Exec(ctx, `UPDATE payments SET status = 'failed', updated_at = now() WHERE id = $1`, p.ID); err != nil {
				return "", p, fmt.Errorf("fail payment: %w", err)
			}
			_, err := s.eco.FailTopUp(ctx, tx, p.ID)
			return OutcomeApplied, p, err
		}
		if p.Status != "pending" && p.Status != "failed" {
			return OutcomeDuplicate, p, nil
		}
		if ev.Amount != p.Price.Amount || ev.Currency != p.Price.Currency {
			s.log.ErrorContext(ctx, "payment amount differs from the offer's price; not crediting", "transaction_id", p.ID,
				"paid", ev.Amount, "paid_currency", ev.Currency, "price", p.Price.Amount, "price_currency", p.Price.Currency)
			return OutcomeMismatch, p, nil
		}
		if _, err := tx.Exec(ctx, `UPDATE payments SET status = 'completed', payment_ref = $2, updated_at = now() WHERE id = $1`, p.ID, ev.PaymentRef); err != nil {
			return "", p, fmt.Errorf("complete payment: %w", err)
		}
		if _, err := s.eco.CompleteTopUp(ctx, tx, p.ID); err != nil {
			if errors.Is(err, economy.ErrPlayerGone) {
				return OutcomeRefundDue, p, s.refundDue(ctx, tx, p, ev.PaymentRef, "player_erased")
			}
			return "", p, err
		}
		return OutcomeApplied, p, s.applyParked(ctx, tx, p, ev.PaymentRef)

	case EventRefunded, EventDisputed:
		p, err := scanPayment(tx.QueryRow(ctx, `SELECT `+paymentColumns+` FROM payments WHERE provider = $1 AND payment_ref = $2`, provider, ev.PaymentRef))
		if err == nil && p == nil && ev.TransactionID != "" {
			p, err = scanPayment(tx.QueryRow(ctx, `SELECT `+paymentColumns+` FROM payments WHERE provider = $1 AND id = $2`, provider, ev.TransactionID))
		}
		if err != nil {
			return "", nil, err
		}
		if p == nil {
			return OutcomeParked, nil, nil
		}
		applied, err := s.reverse(ctx, tx, p, ev.Kind, ev.ObjectRef, ev.Amount)
		if err != nil || !applied {
			return OutcomeDuplicate, p, err
		}
		return OutcomeApplied, p, nil

	case EventDisputeWon:
		p, err := scanPayment(tx.QueryRow(ctx, `SELECT `+paymentColumns+` FROM payments WHERE provider = $1 AND payment_ref = $2`, provider, ev.PaymentRef))
		if err != nil || p == nil {
			// A dispute closing for a payment never seen took nothing.
			return OutcomeUnknown, nil, err
		}
		applied, err := s.restore(ctx, tx, p, ev.ObjectRef)
		if err != nil || !applied {
			return OutcomeDuplicate, p, err
		}
		return OutcomeApplied, p, nil
	}
	return OutcomeIgnored, nil, nil
}

// refundDue records that p's money was taken but cannot be credited, for
// the operator to refund at the gateway, and fails the payment so it never
// credits.
func (s *Service) refundDue(ctx context.Context, tx pgx.Tx, p *Payment, paymentRef, reason string) error {
	if _, err := tx.Exec(ctx, `INSERT INTO payment_refunds_due (payment_id, provider, payment_ref, price_amount, price_currency, reason)
		VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (payment_id) DO NOTHING`, p.ID, p.Provider, paymentRef, p.Price.Amount, p.Price.Currency, reason); err != nil {
		return fmt.Errorf("record refund due: %w", err)
	}
	if _, err := tx.Exec(ctx, `UPDATE payments SET status = 'failed', payment_ref = $2, updated_at = now() WHERE id = $1`, p.ID, paymentRef); err != nil {
		return fmt.Errorf("fail payment: %w", err)
	}
	_, err := s.eco.FailTopUp(ctx, tx, p.ID)
	s.log.WarnContext(ctx, "payment completed for an erased account; recorded for refund", "transaction_id", p.ID)
	return err
}

// restore gives back what a chargeback took once the dispute is won. It
// reports false when p is not charged back.
func (s *Service) restore(ctx context.Context, tx pgx.Tx, p *Payment, ref string) (bool, error) {
	if p.Status != "charged_back" {
		return false, nil
	}
	if _, err := s.eco.RestoreTopUp(ctx, tx, p.ID, "dispute_won", ref, p.DisputedAmount); err != nil {
		return false, err
	}
	if _, err := tx.Exec(ctx, `UPDATE payments SET status = 'completed', reversed_amount = reversed_amount - disputed_amount, disputed_amount = 0,
		updated_at = now() WHERE id = $1`, p.ID); err != nil {
		return false, fmt.Errorf("restore payment: %w", err)
	}
	p.Status, p.ReversedAmount, p.DisputedAmount = "completed", p.ReversedAmount-p.DisputedAmount, 0
	return true, nil
}

// refundTarget is the currency a refund of refunded (cumulative, in the
// price's minor units) takes back in all: the same share of the currency,
// rounded down so a player is never charged for more than was refunded.
// Zero or unknown amounts, and free offers, mean the whole top-up.
func refundTarget(p *Payment, refunded int64) int64 {
	if refunded <= 0 || p.Price.Amount <= 0 || refunded >= p.Price.Amount {
		return p.Amount
	}
	// amount ≤ MaxAmount and price < 2^31 in practice; use 128-bit-safe math anyway.
	return new(big.Int).Div(new(big.Int).Mul(big.NewInt(p.Amount), big.NewInt(refunded)), big.NewInt(p.Price.Amount)).Int64()
}

// reverse applies a refund or dispute to p: a refund takes back the share
// of the currency refunded (cumulative amount, Stripe's amount_refunded), a
// dispute everything not taken back yet. It reports false when there was
// nothing left to reverse.
func (s *Service) reverse(ctx context.Context, tx pgx.Tx, p *Payment, kind EventKind, ref string, amount int64) (bool, error) {
	status, label := "refunded", "refund"
	if kind == EventDisputed {
		status, label = "charged_back", "chargeback"
	}
	switch p.Status {
	case "completed":
		target, refunded := p.Amount, p.RefundedPrice
		if kind == EventRefunded {
			target, refunded = refundTarget(p, amount), max(amount, p.RefundedPrice)
		}
		take := target - p.ReversedAmount
		if take <= 0 {
			return false, nil
		}
		final := target >= p.Amount
		if _, err := s.eco.ReverseTopUp(ctx, tx, p.ID, label, ref, take, final); err != nil {
			return false, err
		}
		if !final {
			status = "completed" // partly refunded: the rest stays the player's
		}
		disputed := p.DisputedAmount
		if kind == EventDisputed {
			disputed += take
		}
		if _, err := tx.Exec(ctx, `UPDATE payments SET status = $2, refunded_price = $3, reversed_amount = $4, disputed_amount = $5, updated_at = now()
			WHERE id = $1`, p.ID, status, refunded, p.ReversedAmount+take, disputed); err != nil {
			return false, fmt.Errorf("reverse payment: %w", err)
		}
		p.Status, p.RefundedPrice, p.ReversedAmount, p.DisputedAmount = status, refunded, p.ReversedAmount+take, disputed
		return true, nil
	case "pending", "failed":
		// Reversed before we saw it complete: it must never credit.
		if _, err := s.eco.FailTopUp(ctx, tx, p.ID); err != nil {
			return false, err
		}
	default:
		return false, nil
	}
	if _, err := tx.Exec(ctx, `UPDATE payments SET status = $2, updated_at = now() WHERE id = $1`, p.ID, status); err != nil {
		return false, fmt.Errorf("reverse payment: %w", err)
	}
	p.Status = status
	return true, nil
}

// applyParked applies the first reversal that arrived before p completed.
func (s *Service) applyParked(ctx context.Context, tx pgx.Tx, p *Payment, paymentRef string) error {
	provider := s.provider.Name()
	var eventID, typ string
	err := tx.QueryRow(ctx, `SELECT event_id, type FROM payment_events WHERE provider = $1 AND payment_ref = $2 AND outcome = $3
		ORDER BY received_at, event_id LIMIT 1`, provider, paymentRef, OutcomeParked).Scan(&eventID, &typ)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read parked events: %w", err)
	}
	kind := EventRefunded
	if typ == "charge.dispute.created" {
		kind = EventDisputed
	}
	// A parked event's amount was not kept: it reverses the whole top-up.
	p.Status = "completed"
	if _, err := s.reverse(ctx, tx, p, kind, eventID, 0); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `UPDATE payment_events SET outcome = CASE WHEN event_id = $3 THEN $4 ELSE $5 END
		WHERE provider = $1 AND payment_ref = $2 AND outcome = $6`, provider, paymentRef, eventID, OutcomeApplied, OutcomeDuplicate, OutcomeParked); err != nil {
		return fmt.Errorf("settle parked events: %w", err)
	}
	return audit.Write(ctx, tx, audit.Event{Kind: audit.PaymentEvent, PlayerID: p.PlayerID, Actor: "gateway:" + provider,
		Details: map[string]any{"event_id": eventID, "type": typ, "outcome": OutcomeApplied, "transaction_id": p.ID, "parked": true}})
}
