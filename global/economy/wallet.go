package economy

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/atollgg/atoll/internal/authn"
	"github.com/atollgg/atoll/internal/db"
	"github.com/atollgg/atoll/internal/httpx"
	"github.com/jackc/pgx/v5"
)

var isUnique = db.IsUniqueViolation

// startingBalanceKey marks the ledger rows of starting balances.
const startingBalanceKey = "starting-balance"

// ensureWallets creates the player's missing wallets with their starting
// balances, each starting balance with its ledger row. It fails with
// errUnknownPlayer for a player that does not exist or was erased.
func (s *Service) ensureWallets(ctx context.Context, tx pgx.Tx, playerID string) error {
	var players int
	err := tx.QueryRow(ctx, `
		WITH p AS (SELECT id FROM players WHERE id = $1 AND deleted_at IS NULL),
		ins AS (
			INSERT INTO wallets (player_id, currency, balance)
			SELECT p.id, c.code, c.start FROM p, unnest($2::TEXT[], $3::BIGINT[]) AS c (code, start)
			ON CONFLICT (player_id, currency) DO NOTHING
			RETURNING currency, balance
		), led AS (
			INSERT INTO transactions (player_id, currency_type, amount, status, reason, idempotency_key, balance_after, details)
			SELECT $1, ins.currency, ins.balance, 'completed', 'grant', $4, ins.balance, '{"note":"starting balance"}'
			FROM ins WHERE ins.balance <> 0
		)
		SELECT count(*) FROM p`,
		playerID, s.currencies.codes, s.currencies.start, startingBalanceKey).Scan(&players)
	if err != nil {
		return fmt.Errorf("create wallets: %w", err)
	}
	if players == 0 {
		return errUnknownPlayer
	}
	return nil
}

// Balances is a player's wallet.
type Balances struct {
	Balances map[string]int64 `json:"balances"`
	// Debts lists currencies in debt after a reversed payment; spending them
	// is blocked until later credits pay the debt. Omitted when none.
	Debts map[string]int64 `json:"debts,omitempty"`
}

// readBalances returns the player's wallets and whether every configured
// currency has one.
func (s *Service) readBalances(ctx context.Context, q interface {
	Query(context.Context, string, ...any) (pgx.Rows, error)
}, playerID string) (Balances, bool, error) {
	out := Balances{Balances: map[string]int64{}}
	rows, err := q.Query(ctx, `SELECT currency, balance, debt FROM wallets WHERE player_id = $1`, playerID)
	if err != nil {
		return out, false, fmt.Errorf("read wallet: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var c string
		var bal, debt int64
		if err := rows.Scan(&c, &bal, &debt); err != nil {
			return out, false, fmt.Errorf("read wallet: %w", err)
		}
		if !s.currencies.known(c) {
			continue // a currency the operator has since removed
		}
		out.Balances[c] = bal
		if debt > 0 {
			if out.Debts == nil {
				out.Debts = map[string]int64{}
			}
			out.Debts[c] = debt
		}
	}
	if err := rows.Err(); err != nil {
		return out, false, fmt.Errorf("read wallet: %w", err)
	}
	return out, len(out.Balances) == len(s.currencies.codes), nil
}

// Wallet returns the player's balances, creating the wallet with the
// starting balances on first access.
func (s *Service) Wallet(ctx context.Context, playerID string) (Balances, error) {
	b, complete, err := s.readBalances(ctx, s.db.Pool, playerID)
	if err != nil || complete {
		return b, err
	}
	err = s.db.RunTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		if err := s.ensureWallets(ctx, tx, playerID); err != nil {
			return err
		}
		b, _, err = s.readBalances(ctx, tx, playerID)
		return err
	})
	if errors.Is(err, errUnknownPlayer) {
		return b, ErrUnknownPlayer
	}
	return b, err
}

func (s *Service) getWallet(w http.ResponseWriter, r *http.Request) error {
	b, err := s.Wallet(r.Context(), authn.PlayerID(r.Context()))
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	httpx.WriteJSON(w, http.StatusOK, b)
	return nil
}

// Entry is one balance change to apply with its ledger row.
type Entry struct {
	PlayerID string
	Currency string
	// Amount is signed: credits pay off debt first; debits need the funds.
	Amount int64
	// Reason is the ledger reason: purchase, reward, grant, refund or topup.
	Reason string
	// Key is the caller's idempotency key, recorded on the ledger row.
	Key string
	// ItemID and Quantity name the item involved, if any.
	ItemID   string
	Quantity int64
	// GatewayRef is the payment gateway's reference, if any.
	GatewayRef string
	// Details is a JSON object stored with the row; nil means {}.
	Details []byte
	// AllowDebt lets a debit exceed the balance, recording the shortfall as
	// debt (reversal of a refunded or charged-back top-up).
	AllowDebt bool
}

// Applied is the wallet after an Entry.
type Applied struct {
	TransactionID string `json:"transaction_id"`
	Currency      string `json:"currency"`
	Amount        int64  `json:"amount"`
	Balance       int64  `json:"balance"`
	Debt          int64  `json:"debt,omitempty"`
}

// apply changes one wallet and writes its ledger row in one statement. The
// wallet must exist (ensureWallets).
func (s *Service) apply(ctx context.Context, tx pgx.Tx, e Entry) (Applied, error) {
	out := Applied{Currency: e.Currency, Amount: e.Amount}
	details := e.Details
	if details == nil {
		details = []byte("{}")
	}
	var item, ref *string
	if e.ItemID != "" {
		item = &e.ItemID
	}
	if e.GatewayRef != "" {
		ref = &e.GatewayRef
	}
	err := tx.QueryRow(ctx, `
		WITH w AS (
			UPDATE wallets SET
				balance = CASE WHEN $3 >= 0 THEN wallets.balance + GREATEST($3 - wallets.debt, 0) ELSE GREATEST(wallets.balance + $3, 0) END,
				debt = CASE WHEN $3 >= 0 THEN GREATEST(wallets.debt - $3, 0) ELSE wallets.debt + GREATEST(-$3 - wallets.balance, 0) END,
				updated_at = now()
			WHERE player_id = $1 AND currency = $2 AND ($3 >= 0 OR $4 OR (wallets.balance >= -$3 AND wallets.debt = 0))
			RETURNING balance, debt
		)
		INSERT INTO transactions (player_id, item_id, quantity, currency_type, amount, status, reason, idempotency_key, payment_gateway_ref, balance_after, details)
		SELECT $1, $5, $6, $2, $3, 'completed', $7, $8, $9, w.balance, $10 FROM w
		RETURNING id::TEXT, balance_after, (SELECT debt FROM w)`,
		e.PlayerID, e.Currency, e.Amount, e.AllowDebt, item, e.Quantity, e.Reason, e.Key, ref, string(details)).Scan(&out.TransactionID, &out.Balance, &out.Debt)
	if errors.Is(err, pgx.ErrNoRows) {
		return out, s.whyNoDebit(ctx, tx, e.PlayerID, e.Currency)
	}
	if err != nil {
		return out, fmt.Errorf("apply %s %d: %w", e.Currency, e.Amount, err)
	}
	return out, nil
}

// rowQuerier is a pool, a connection or a transaction.
type rowQuerier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// whyNoDebit explains a debit that matched no wallet row.
func (s *Service) whyNoDebit(ctx context.Context, q rowQuerier, playerID, currency string) error {
	var bal, debt int64
	err := q.QueryRow(ctx, `SELECT balance, debt FROM wallets WHERE player_id = $1 AND currency = $2`, playerID, currency).Scan(&bal, &debt)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return errNoWallet
	case err != nil:
		return fmt.Errorf("read wallet: %w", err)
	case debt > 0:
		return ErrWalletInDebt
	default:
		return detail(ErrInsufficientFunds, "not enough %s: the balance is %d", currency, bal)
	}
}

// errNoWallet is internal: the caller creates the wallet and tries again.
var errNoWallet = errors.New("wallet not created yet")
