package economy

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/atollgg/atoll/internal/authn"
	"github.com/atollgg/atoll/internal/httpx"
	"github.com/atollgg/atoll/internal/keyset"
	"github.com/jackc/pgx/v5"
)

// Page sizes of GET /wallet/transactions and GET /inventory/{playerId}.
const (
	DefaultPageSize = 50
	// MaxPageSize keeps one page's query and response small.
	MaxPageSize = 200
)

// Transaction is one ledger row.
type Transaction struct {
	ID           string  `json:"id"`
	PlayerID     string  `json:"player_id"`
	ItemID       *string `json:"item_id,omitempty"`
	Quantity     int64   `json:"quantity,omitempty"`
	CurrencyType string  `json:"currency_type"`
	// Amount is signed: credits are positive, debits negative.
	Amount int64 `json:"amount"`
	// Status is pending, completed, failed or refunded.
	Status string `json:"status"`
	// Reason is purchase, reward, grant, refund or topup.
	Reason            string          `json:"reason"`
	IdempotencyKey    string          `json:"idempotency_key,omitempty"`
	PaymentGatewayRef *string         `json:"payment_gateway_ref,omitempty"`
	BalanceAfter      *int64          `json:"balance_after,omitempty"`
	Details           json.RawMessage `json:"details,omitempty"`
	Timestamp         time.Time       `json:"timestamp"`
}

// TransactionPage is the body of GET /wallet/transactions.
type TransactionPage struct {
	Transactions []Transaction `json:"transactions"`
	// NextCursor fetches the next (older) page; empty on the last page.
	NextCursor string `json:"next_cursor,omitempty"`
}

const transactionColumns = `id::TEXT, player_id::TEXT, item_id, quantity, currency_type, amount, status, reason, idempotency_key,
	payment_gateway_ref, balance_after, details, created_at`

func scanTransaction(rows pgx.Rows) (Transaction, error) {
	var t Transaction
	var details []byte
	err := rows.Scan(&t.ID, &t.PlayerID, &t.ItemID, &t.Quantity, &t.CurrencyType, &t.Amount, &t.Status, &t.Reason, &t.IdempotencyKey,
		&t.PaymentGatewayRef, &t.BalanceAfter, &details, &t.Timestamp)
	if string(details) != "{}" {
		t.Details = details
	}
	return t, err
}

// position is a place in a (time, id) ordered listing, newest first.
type position struct {
	at time.Time
	id string
}

// encodeCursor makes an opaque, URL-safe cursor.
func encodeCursor(c position) string {
	return keyset.Encode(c.at, c.id)
}

// DecodeCursor parses a cursor from a query string; it is exported for fuzzing.
func DecodeCursor(s string) (time.Time, string, error) {
	c, err := decodeCursor(s)
	return c.at, c.id, err
}

func decodeCursor(s string) (position, error) {
	at, id, err := keyset.Decode(s)
	return position{at: at, id: id}, err
}

// pageParams reads ?limit= and ?cursor=.
func pageParams(r *http.Request) (int, string, error) {
	q := r.URL.Query()
	limit := DefaultPageSize
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > MaxPageSize {
			return 0, "", httpx.BadRequest("limit must be between 1 and %d", MaxPageSize)
		}
		limit = n
	}
	return limit, q.Get("cursor"), nil
}

// pageStart decodes an optional cursor.
func pageStart(c string) (*position, error) {
	if c == "" {
		return nil, nil
	}
	cur, err := decodeCursor(c)
	if err != nil {
		return nil, err
	}
	return &cur, nil
}

// Transactions lists a player's ledger, newest first, limit rows after
// cursor (a NextCursor; "" for the first page).
func (s *Service) Transactions(ctx context.Context, playerID string, limit int, cursor string) (TransactionPage, error) {
	page := TransactionPage{Transactions: []Transaction{}}
	after, err := pageStart(cursor)
	if err != nil {
		return page, err
	}
	args := []any{playerID, limit + 1}
	where := ""
	if after != nil {
		where = ` AND (created_at, id) < ($3, $4)`
		args = append(args, after.at, after.id)
	}
	rows, err := s.db.Pool.Query(ctx, `SELECT `+transactionColumns+` FROM transactions WHERE player_id = $1`+where+
		` ORDER BY created_at DESC, id DESC LIMIT $2`, args...)
	if err != nil {
		return page, fmt.Errorf("list transactions: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		t, err := scanTransaction(rows)
		if err != nil {
			return page, fmt.Errorf("list transactions: %w", err)
		}
		page.Transactions = append(page.Transactions, t)
	}
	if err := rows.Err(); err != nil {
		return page, fmt.Errorf("list transactions: %w", err)
	}
	if len(page.Transactions) > limit {
		page.Transactions = page.Transactions[:limit]
		last := page.Transactions[limit-1]
		page.NextCursor = encodeCursor(position{at: last.Timestamp, id: last.ID})
	}
	return page, nil
}

func (s *Service) listTransactions(w http.ResponseWriter, r *http.Request) error {
	limit, cur, err := pageParams(r)
	if err != nil {
		return err
	}
	page, err := s.Transactions(r.Context(), authn.PlayerID(r.Context()), limit, cur)
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	httpx.WriteJSON(w, http.StatusOK, page)
	return nil
}

// Mismatch is a wallet whose balance disagrees with its ledger.
type Mismatch struct {
	PlayerID  string `json:"player_id"`
	Currency  string `json:"currency"`
	Balance   int64  `json:"balance"`
	Debt      int64  `json:"debt"`
	LedgerSum int64  `json:"ledger_sum"`
}

// Reconcile checks every wallet against the ledger: balance - debt must
// equal the sum of the applied rows (completed, or refunded) of that player
// and currency. It returns the wallets that disagree; an empty result is
// the expected one. playerIDs limits the check; none checks everything.
func (s *Service) Reconcile(ctx context.Context, playerIDs ...string) ([]Mismatch, error) {
	filter, args := "", []any{}
	if len(playerIDs) > 0 {
		filter, args = `WHERE COALESCE(w.player_id, l.player_id) = ANY($1::UUID[])`, append(args, playerIDs)
	}
	// A full join also catches ledger rows whose wallet is missing.
	rows, err := s.db.Pool.Query(ctx, `
		SELECT COALESCE(w.player_id, l.player_id)::TEXT, COALESCE(w.currency, l.currency_type),
			COALESCE(w.balance, 0), COALESCE(w.debt, 0), COALESCE(l.total, 0)
		FROM wallets AS w FULL OUTER JOIN (
			SELECT player_id, currency_type, sum(amount) AS total FROM transactions
			WHERE status IN ('completed', 'refunded') AND currency_type <> '' GROUP BY player_id, currency_type
		) AS l ON l.player_id = w.player_id AND l.currency_type = w.currency
		`+filter+`
		ORDER BY 1, 2`, args...)
	if err != nil {
		return nil, fmt.Errorf("reconcile: %w", err)
	}
	defer rows.Close()
	var out []Mismatch
	for rows.Next() {
		var m Mismatch
		if err := rows.Scan(&m.PlayerID, &m.Currency, &m.Balance, &m.Debt, &m.LedgerSum); err != nil {
			return nil, fmt.Errorf("reconcile: %w", err)
		}
		if m.Balance-m.Debt != m.LedgerSum {
			out = append(out, m)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reconcile: %w", err)
	}
	return out, nil
}
