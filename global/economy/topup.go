package economy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// The ledger side of real-money top-ups. The payments package owns the
// gateway and the payment's state machine; it calls these inside its own
// transactions, so a payment's state and its ledger rows commit together.

// PendingTopUp is a checkout the player has started.
type PendingTopUp struct {
	TransactionID string
	PlayerID      string
	// Key is the player's idempotency key of the checkout.
	Key         string
	Offer       Offer
	Provider    string
	CheckoutRef string
}

// FindTopUp returns the transaction id of the checkout recorded under the
// player's key, "" if there is none, or ErrKeyReused if the key was used
// for something else.
func (s *Service) FindTopUp(ctx context.Context, tx pgx.Tx, playerID, key, offerID string) (string, error) {
	prev, err := lookupRequest(ctx, tx, playerID, playerKeyPrefix+key)
	if err != nil || prev == nil {
		return "", err
	}
	if prev.hash != RequestHash(KindCheckout, offerID) || prev.txID == nil {
		return "", ErrKeyReused
	}
	return *prev.txID, nil
}

// BeginTopUp writes the pending ledger row and records the key. A pending
// row moves no money.
func (s *Service) BeginTopUp(ctx context.Context, tx pgx.Tx, p PendingTopUp) error {
	details, err := json.Marshal(map[string]any{"offer_id": p.Offer.ID, "price": p.Offer.Price, "provider": p.Provider})
	if err != nil {
		return fmt.Errorf("encode top-up details: %w", err)
	}
	if _, err := tx.Exec(ctx, `
		INSERT INTO transactions (id, player_id, currency_type, amount, status, reason, idempotency_key, payment_gateway_ref, details)
		VALUES ($1, $2, $3, $4, 'pending', 'topup', $5, $6, $7)`,
		p.TransactionID, p.PlayerID, p.Offer.Currency, p.Offer.Amount, p.Key, p.CheckoutRef, string(details)); err != nil {
		return fmt.Errorf("record pending top-up: %w", err)
	}
	return recordRequest(ctx, tx, p.PlayerID, playerKeyPrefix+p.Key, RequestHash(KindCheckout, p.Offer.ID), &p.TransactionID, nil)
}

// ErrPlayerGone is CompleteTopUp's answer when the top-up's player account
// was erased: nothing is credited, and the caller records the payment for a
// refund.
var ErrPlayerGone = errors.New("the top-up's player account was erased")

// CompleteTopUp credits a pending (or failed, then paid late) top-up and
// marks its ledger row completed. It returns nil when the row was not
// waiting for money: the caller's event was a duplicate; ErrPlayerGone
// when the player was erased meanwhile.
func (s *Service) CompleteTopUp(ctx context.Context, tx pgx.Tx, txID string) (*Applied, error) {
	var owner string
	err := tx.QueryRow(ctx, `SELECT player_id::TEXT FROM transactions WHERE id = $1 AND reason = 'topup' AND status IN ('pending', 'failed')`, txID).Scan(&owner)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("complete top-up %s: %w", txID, err)
	}
	if err := s.ensureWallets(ctx, tx, owner); err != nil {
		if errors.Is(err, errUnknownPlayer) {
			return nil, ErrPlayerGone
		}
		return nil, fmt.Errorf("complete top-up %s: %w", txID, err)
	}
	var playerID, currency string
	var amount int64
	err = tx.QueryRow(ctx, `UPDATE transactions SET status = 'completed', updated_at = now()
		WHERE id = $1 AND reason = 'topup' AND status IN ('pending', 'failed')
		RETURNING player_id::TEXT, currency_type, amount`, txID).Scan(&playerID, &currency, &amount)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("complete top-up %s: %w", txID, err)
	}
	a := &Applied{TransactionID: txID, Currency: currency, Amount: amount}
	// Credits pay off debt first: see wallets in 0002_economy.sql.
	if err := tx.QueryRow(ctx, `UPDATE wallets SET balance = balance + GREATEST($3 - debt, 0), debt = GREATEST(debt - $3, 0), updated_at = now()
		WHERE player_id = $1 AND currency = $2 RETURNING balance, debt`, playerID, currency, amount).Scan(&a.Balance, &a.Debt); err != nil {
		return nil, fmt.Errorf("credit top-up %s: %w", txID, err)
	}
	if _, err := tx.Exec(ctx, `UPDATE transactions SET balance_after = $2 WHERE id = $1`, txID, a.Balance); err != nil {
		return nil, fmt.Errorf("complete top-up %s: %w", txID, err)
	}
	return a, nil
}

// FailTopUp marks a pending top-up failed (expired or declined). It
// reports whether the row was pending.
func (s *Service) FailTopUp(ctx context.Context, tx pgx.Tx, txID string) (bool, error) {
	tag, err := tx.Exec(ctx, `UPDATE transactions SET status = 'failed', updated_at = now() WHERE id = $1 AND reason = 'topup' AND status = 'pending'`, txID)
	if err != nil {
		return false, fmt.Errorf("fail top-up %s: %w", txID, err)
	}
	return tag.RowsAffected() == 1, nil
}

// ReverseTopUp takes back amount of a completed top-up's currency after a
// refund or chargeback, as a refund row; currency already spent becomes
// debt instead of a negative balance. final marks the top-up row refunded
// (the whole top-up is reversed); a partial refund leaves it completed. It
// returns nil when the top-up was not completed.
func (s *Service) ReverseTopUp(ctx context.Context, tx pgx.Tx, txID, kind, gatewayRef string, amount int64, final bool) (*Applied, error) {
	var playerID, currency, key string
	var err error
	if final {
		err = tx.QueryRow(ctx, `UPDATE transactions SET status = 'refunded', updated_at = now()
			WHERE id = $1 AND reason = 'topup' AND status = 'completed'
			RETURNING player_id::TEXT, currency_type, idempotency_key`, txID).Scan(&playerID, &currency, &key)
	} else {
		err = tx.QueryRow(ctx, `SELECT player_id::TEXT, currency_type, idempotency_key FROM transactions
			WHERE id = $1 AND reason = 'topup' AND status = 'completed'`, txID).Scan(&playerID, &currency, &key)
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reverse top-up %s: %w", txID, err)
	}
	if amount <= 0 {
		return &Applied{TransactionID: txID, Currency: currency}, nil
	}
	details, err := json.Marshal(map[string]string{"reverses": txID, "kind": kind})
	if err != nil {
		return nil, fmt.Errorf("encode reversal: %w", err)
	}
	a, err := s.apply(ctx, tx, Entry{PlayerID: playerID, Currency: currency, Amount: -amount, Reason: ReasonRefund, Key: key,
		GatewayRef: gatewayRef, Details: details, AllowDebt: true})
	if err != nil {
		return nil, fmt.Errorf("reverse top-up %s: %w", txID, err)
	}
	return &a, nil
}

// RestoreTopUp gives back amount of a reversed top-up's currency, e.g. a
// chargeback the player won: a credit row (paying off debt first), and the
// top-up row is completed again. It returns nil when the top-up was never
// completed.
func (s *Service) RestoreTopUp(ctx context.Context, tx pgx.Tx, txID, kind, gatewayRef string, amount int64) (*Applied, error) {
	var playerID, currency, key string
	err := tx.QueryRow(ctx, `UPDATE transactions SET status = 'completed', updated_at = now()
		WHERE id = $1 AND reason = 'topup' AND status IN ('completed', 'refunded')
		RETURNING player_id::TEXT, currency_type, idempotency_key`, txID).Scan(&playerID, &currency, &key)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("restore top-up %s: %w", txID, err)
	}
	if amount <= 0 {
		return &Applied{TransactionID: txID, Currency: currency}, nil
	}
	details, err := json.Marshal(map[string]string{"restores": txID, "kind": kind})
	if err != nil {
		return nil, fmt.Errorf("encode restoration: %w", err)
	}
	a, err := s.apply(ctx, tx, Entry{PlayerID: playerID, Currency: currency, Amount: amount, Reason: ReasonRefund, Key: key,
		GatewayRef: gatewayRef, Details: details})
	if err != nil {
		return nil, fmt.Errorf("restore top-up %s: %w", txID, err)
	}
	return &a, nil
}
