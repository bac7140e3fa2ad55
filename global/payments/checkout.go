package payments

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/atollgg/atoll/global/economy"
	"github.com/atollgg/atoll/internal/authn"
	"github.com/atollgg/atoll/internal/db"
	"github.com/atollgg/atoll/internal/httpx"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// maxCheckoutBody bounds POST /store/checkout: one offer id.
const maxCheckoutBody = 1 << 10

// CodeUnknownOffer is the error code of a checkout for an offer that does not exist.
const CodeUnknownOffer = "unknown_offer"

// checkoutNamespace derives a checkout's transaction id from the player and
// their idempotency key, so concurrent retries converge on one row.
var checkoutNamespace = uuid.MustParse("0b5c7e0e-2f4a-4d53-8f0c-6a1d2c3b4e5f")

// CheckoutBody is the body of POST /store/checkout.
type CheckoutBody struct {
	OfferID string `json:"offer_id"`
}

// CheckoutResponse is the answer to POST /store/checkout, identical on retries.
type CheckoutResponse struct {
	TransactionID string `json:"transaction_id"`
	// Status is the payment's status: pending until the gateway confirms.
	Status      string        `json:"status"`
	Provider    string        `json:"provider"`
	CheckoutRef string        `json:"checkout_ref"`
	CheckoutURL string        `json:"checkout_url"`
	OfferID     string        `json:"offer_id"`
	Currency    string        `json:"currency"`
	Amount      int64         `json:"amount"`
	Price       economy.Money `json:"price"`
}

// Payment is a payments row.
type Payment struct {
	ID          string
	PlayerID    string
	Provider    string
	OfferID     string
	Currency    string
	Amount      int64
	Price       economy.Money
	CheckoutRef string
	CheckoutURL string
	PaymentRef  *string
	Status      string
	CreatedAt   time.Time
	// RefundedPrice is the part of the price refunded so far (minor units).
	RefundedPrice int64
	// ReversedAmount is the currency taken back so far by refunds and
	// disputes; DisputedAmount the part of it a dispute took.
	ReversedAmount, DisputedAmount int64
}

const paymentColumns = `id::TEXT, player_id::TEXT, provider, offer_id, currency, amount, price_amount, price_currency, checkout_ref, checkout_url, payment_ref, status, created_at, refunded_price, reversed_amount, disputed_amount`

func scanPayment(row pgx.Row) (*Payment, error) {
	var p Payment
	err := row.Scan(&p.ID, &p.PlayerID, &p.Provider, &p.OfferID, &p.Currency, &p.Amount, &p.Price.Amount, &p.Price.Currency, &p.CheckoutRef, &p.CheckoutURL, &p.PaymentRef, &p.Status, &p.CreatedAt, &p.RefundedPrice, &p.ReversedAmount, &p.DisputedAmount)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read payment: %w", err)
	}
	return &p, nil
}

// PaymentByID returns a payment, or nil.
func (s *Service) PaymentByID(ctx context.Context, q interface {
	QueryRow(context.Context, string, ...any) pgx.Row
}, id string) (*Payment, error) {
	return scanPayment(q.QueryRow(ctx, `SELECT `+paymentColumns+` FROM payments WHERE id = $1`, id))
}

func (p *Payment) response() CheckoutResponse {
	return CheckoutResponse{TransactionID: p.ID, Status: p.Status, Provider: p.Provider, CheckoutRef: p.CheckoutRef, CheckoutURL: p.CheckoutURL,
		OfferID: p.OfferID, Currency: p.Currency, Amount: p.Amount, Price: p.Price}
}

// Checkout starts a top-up of offerID for playerID, exactly once per key:
// it records a pending ledger row and the gateway's checkout reference.
// The gateway is called outside the database transaction, with an
// idempotency key derived from the player's, so a retry after a crash gets
// the same checkout back.
func (s *Service) Checkout(ctx context.Context, playerID, key, offerID string) (CheckoutResponse, bool, error) {
	offer, ok := s.eco.Offer(offerID)
	if !ok {
		return CheckoutResponse{}, false, httpx.Errorf(http.StatusNotFound, CodeUnknownOffer, "no top-up offer %q", offerID)
	}
	if s.provider == nil {
		return CheckoutResponse{}, false, httpx.Unavailable("real-money top-ups are not configured on this server")
	}
	if !economy.ValidKey(key) {
		return CheckoutResponse{}, false, httpx.BadRequest("idempotency key must be 1-%d printable ASCII characters", economy.MaxKeyLength)
	}
	if res, found, err := s.replayCheckout(ctx, playerID, key, offerID); err != nil || found {
		return res, found, err
	}
	txID := uuid.NewSHA1(checkoutNamespace, []byte(playerID+"\x00"+key)).String()
	co, err := s.provider.CreateCheckout(ctx, CheckoutRequest{TransactionID: txID, PlayerID: playerID, Offer: offer, IdempotencyKey: txID})
	if err != nil {
		s.log.ErrorContext(ctx, "create checkout failed", "provider", s.provider.Name(), "err", err)
		return CheckoutResponse{}, false, httpx.Unavailable("the payment gateway is unavailable, try again")
	}
	p := &Payment{ID: txID, PlayerID: playerID, Provider: s.provider.Name(), OfferID: offer.ID, Currency: offer.Currency, Amount: offer.Amount,
		Price: offer.Price, CheckoutRef: co.Ref, CheckoutURL: co.URL, Status: "pending"}
	replay := false
	err = s.db.RunTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		prev, err := s.eco.FindTopUp(ctx, tx, playerID, key, offerID)
		if err != nil {
			return err
		}
		if replay = prev != ""; replay {
			return nil
		}
		if err := s.eco.BeginTopUp(ctx, tx, economy.PendingTopUp{TransactionID: txID, PlayerID: playerID, Key: key, Offer: offer,
			Provider: p.Provider, CheckoutRef: co.Ref}); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `INSERT INTO payments (id, player_id, provider, offer_id, currency, amount, price_amount, price_currency, checkout_ref, checkout_url, status)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'pending')`,
			p.ID, p.PlayerID, p.Provider, p.OfferID, p.Currency, p.Amount, p.Price.Amount, p.Price.Currency, p.CheckoutRef, p.CheckoutURL)
		if err != nil {
			return fmt.Errorf("record payment: %w", err)
		}
		return nil
	})
	if replay || db.IsUniqueViolation(err, "") {
		// A concurrent request with the same key won; answer with its row.
		return s.replayCheckout(ctx, playerID, key, offerID)
	}
	if err != nil {
		return CheckoutResponse{}, false, err
	}
	return p.response(), false, nil
}

// replayCheckout answers a retried checkout from its recorded payment.
func (s *Service) replayCheckout(ctx context.Context, playerID, key, offerID string) (CheckoutResponse, bool, error) {
	var p *Payment
	err := s.db.RunTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		id, err := s.eco.FindTopUp(ctx, tx, playerID, key, offerID)
		if err != nil || id == "" {
			return err
		}
		p, err = s.PaymentByID(ctx, tx, id)
		return err
	})
	if err != nil || p == nil {
		return CheckoutResponse{}, false, err
	}
	return p.response(), true, nil
}

func (s *Service) checkout(w http.ResponseWriter, r *http.Request) error {
	key, err := economy.RequestKey(r)
	if err != nil {
		return err
	}
	var body CheckoutBody
	if err := httpx.DecodeJSON(w, r, &body, maxCheckoutBody); err != nil {
		return err
	}
	if body.OfferID == "" {
		return httpx.BadRequest("offer_id is required")
	}
	res, replayed, err := s.Checkout(r.Context(), authn.PlayerID(r.Context()), key, body.OfferID)
	if err != nil {
		return err
	}
	if replayed {
		w.Header().Set(economy.ReplayedHeader, "true")
	}
	w.Header().Set("Cache-Control", "no-store")
	httpx.WriteJSON(w, http.StatusCreated, res)
	return nil
}
