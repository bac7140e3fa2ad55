package economy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/atollgg/atoll/internal/authn"
	"github.com/atollgg/atoll/internal/httpx"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// maxPurchaseBody bounds POST /store/purchase: three short fields.
const maxPurchaseBody = 1 << 10

// ReplayedHeader is set on a response served from an earlier request with
// the same idempotency key.
const ReplayedHeader = "Idempotent-Replayed"

// stackNamespace derives the id of a player's stack of a stackable item, so
// concurrent grants of the same item upsert one row.
var stackNamespace = uuid.MustParse("6d1f3c55-93a1-4b53-9a43-0e4f4b7b9a11")

// StackID is the inventory item id of playerID's stack of a stackable item.
func StackID(playerID, itemTemplateID string) string {
	return uuid.NewSHA1(stackNamespace, []byte(playerID+"/"+itemTemplateID)).String()
}

// PurchaseRequest is the body of POST /store/purchase.
type PurchaseRequest struct {
	ItemTemplateID string `json:"item_template_id"`
	// Quantity defaults to 1.
	Quantity int64  `json:"quantity,omitempty"`
	Currency string `json:"currency"`
}

// normalize checks the request's shape and fills defaults.
func (req *PurchaseRequest) normalize(cs currencySet) error {
	if req.Quantity == 0 {
		req.Quantity = 1
	}
	if req.Quantity < 1 || req.Quantity > MaxPurchaseQuantity {
		return httpx.BadRequest("quantity must be between 1 and %d", MaxPurchaseQuantity)
	}
	if !itemIDPattern.MatchString(req.ItemTemplateID) {
		return httpx.BadRequest("item_template_id is required and must be a catalog item id")
	}
	if !cs.known(req.Currency) {
		return httpx.BadRequest("currency must be one of %v", cs.codes)
	}
	return nil
}

// PurchaseResult is the answer to a purchase, identical on every retry.
type PurchaseResult struct {
	TransactionID  string `json:"transaction_id"`
	ItemTemplateID string `json:"item_template_id"`
	Quantity       int64  `json:"quantity"`
	Currency       string `json:"currency"`
	// Price is the total debited.
	Price int64 `json:"price"`
	// Balance is the currency's balance right after this purchase.
	Balance int64 `json:"balance"`
	// InventoryItemIDs are the instances granted, or the stack added to.
	InventoryItemIDs []string `json:"inventory_item_ids"`
	// Replayed is true when an earlier request with the same key answered.
	Replayed bool `json:"-"`
}

type purchaseDetails struct {
	InventoryItemIDs []string `json:"inventory_item_ids"`
}

// purchaseSQL debits the wallet, grants the item, writes the ledger row and
// the idempotency record in one statement: one round trip, one atomic unit.
// Each step runs only if the previous one did. If the debit happened but
// the stack had no room, the ledger row gets a status its CHECK constraint
// refuses, which aborts the whole statement, debit included. When nothing
// was debited and the key is new, whyNoDebit reads why (a rare, second
// round trip).
//
// Alone, it runs as an implicit transaction. On PostgreSQL that is READ
// COMMITTED, and still exact: the wallet UPDATE re-checks balance and debt
// on the row's latest version after waiting for its lock, so concurrent
// purchases never overdraw; the stack upsert is atomic; and two requests
// with one key both insert the idempotency record, so the second fails on
// its primary key and rolls back whole. Items with a per-player limit or a
// stock read before they write, so they run it inside a SERIALIZABLE
// transaction instead (CockroachDB's implicit transactions are serializable).
const purchaseSQL = `
WITH prev AS (
	SELECT request_hash, transaction_id FROM economy_requests WHERE player_id = $1 AND idem_key = $2
), w AS (
	UPDATE wallets SET balance = wallets.balance - $4, updated_at = now()
	WHERE player_id = $1 AND currency = $3 AND wallets.balance >= $4 AND wallets.debt = 0 AND NOT EXISTS (SELECT 1 FROM prev)
	RETURNING balance
), inv AS (
	INSERT INTO inventory_items (id, player_id, item_template_id, quantity, attributes)
	SELECT u.id, $1, $5, $6, $7 FROM w, unnest($8::UUID[]) AS u (id)
	ON CONFLICT (id) DO UPDATE SET quantity = inventory_items.quantity + excluded.quantity
	WHERE inventory_items.quantity + excluded.quantity <= $9
	RETURNING 1
), led AS (
	INSERT INTO transactions (id, player_id, item_id, quantity, currency_type, amount, status, reason, idempotency_key, balance_after, details)
	SELECT $10, $1, $5, $11, $3, -$4, CASE WHEN (SELECT count(*) FROM inv) = $14 THEN 'completed' ELSE '` + stackFullStatus + `' END,
		'purchase', $12, w.balance, $13 FROM w
	RETURNING id
), req AS (
	INSERT INTO economy_requests (player_id, idem_key, request_hash, transaction_id)
	SELECT $1, $2, $15, led.id FROM led
)
SELECT (SELECT balance FROM w), (SELECT request_hash FROM prev), (SELECT transaction_id::TEXT FROM prev)`

// stackFullStatus is not a ledger status: writing it trips
// transactions_status_check and aborts purchaseSQL.
const stackFullStatus = "stack_full"

// isStackFull reports whether err is purchaseSQL aborting on a full stack.
func isStackFull(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23514" &&
		(pe.ConstraintName == "transactions_status_check" || strings.Contains(pe.Message, "transactions_status_check"))
}

// purchaseOutcome is purchaseSQL's answer.
type purchaseOutcome struct {
	balance          *int64
	prevHash, prevTx *string
}

// classify turns an outcome into nil (debited), replayed, or why nothing
// was debited: errNoWallet, ErrWalletInDebt or ErrInsufficientFunds.
//
// Before blaming the wallet it reads the key again: on PostgreSQL (READ
// COMMITTED) a same-key request racing this one may have committed while
// this statement waited for the wallet row, taking the money this one then
// found missing; its key was not in this statement's snapshot but is in
// the next statement's, and its answer is the right one to give.
func (s *Service) classify(ctx context.Context, q rowQuerier, o *purchaseOutcome, playerID, idemKey, currency string) error {
	switch {
	case o.prevHash != nil:
		return replayed{&storedRequest{hash: *o.prevHash, txID: o.prevTx}}
	case o.balance != nil:
		return nil
	}
	var prev storedRequest
	err := q.QueryRow(ctx, `SELECT request_hash, transaction_id::TEXT FROM economy_requests WHERE player_id = $1 AND idem_key = $2`,
		playerID, idemKey).Scan(&prev.hash, &prev.txID)
	switch {
	case err == nil:
		return replayed{&prev}
	case !errors.Is(err, pgx.ErrNoRows):
		return fmt.Errorf("read idempotency record: %w", err)
	}
	return s.whyNoDebit(ctx, q, playerID, currency)
}

// Purchase buys req for playerID, exactly once per key: the debit, the
// grant, the ledger row and the key commit together or not at all.
func (s *Service) Purchase(ctx context.Context, playerID, key string, req PurchaseRequest) (*PurchaseResult, error) {
	if err := req.normalize(s.currencies); err != nil {
		return nil, err
	}
	if !ValidKey(key) {
		return nil, httpx.BadRequest("idempotency key must be 1-%d printable ASCII characters", MaxKeyLength)
	}
	it, ok := s.catalog.get(ctx).item(req.ItemTemplateID)
	if !ok {
		return nil, detail(ErrUnknownItem, "no item %q in the catalog", req.ItemTemplateID)
	}
	price, priced := it.Prices[req.Currency]
	switch {
	case !it.onSale(s.now()):
		return nil, detail(ErrNotOnSale, "%s is not on sale", it.ID)
	case !priced:
		return nil, detail(ErrNotOnSale, "%s is not sold for %s", it.ID, req.Currency)
	case it.Stackable && req.Quantity > it.MaxStack:
		return nil, detail(ErrStackFull, "at most %d %s fit in a stack", it.MaxStack, it.ID)
	}
	total := price * req.Quantity
	idemKey := playerKeyPrefix + key
	hash := RequestHash(kindPurchase, req.ItemTemplateID, req.Currency, strconv.FormatInt(req.Quantity, 10))

	res := &PurchaseResult{TransactionID: uuid.NewString(), ItemTemplateID: it.ID, Quantity: req.Quantity, Currency: req.Currency, Price: total}
	perRow, attrs := int64(1), []byte(it.Attributes)
	if it.Stackable {
		res.InventoryItemIDs = []string{StackID(playerID, it.ID)}
		perRow, attrs = req.Quantity, []byte("{}")
	} else {
		for range req.Quantity {
			res.InventoryItemIDs = append(res.InventoryItemIDs, uuid.NewString())
		}
	}
	details, err := json.Marshal(purchaseDetails{InventoryItemIDs: res.InventoryItemIDs})
	if err != nil {
		return nil, fmt.Errorf("encode purchase details: %w", err)
	}
	var out purchaseOutcome
	exec := func(ctx context.Context, q rowQuerier) error {
		out = purchaseOutcome{}
		if err := q.QueryRow(ctx, purchaseSQL, playerID, idemKey, req.Currency, total, it.ID, perRow, string(attrs),
			res.InventoryItemIDs, it.MaxStack, res.TransactionID, req.Quantity, key, string(details),
			int64(len(res.InventoryItemIDs)), hash).Scan(&out.balance, &out.prevHash, &out.prevTx); err != nil {
			return fmt.Errorf("purchase: %w", err)
		}
		return nil
	}
	limited := it.PerPlayerLimit != nil || it.Limited
	for ensured := false; ; ensured = true {
		if limited {
			err = s.db.RunTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
				if err := s.checkLimited(ctx, tx, playerID, idemKey, it, req.Quantity); err != nil {
					return err
				}
				if err := exec(ctx, tx); err != nil {
					return err
				}
				// Anything but a debit rolls back the stock taken above.
				return s.classify(ctx, tx, &out, playerID, idemKey, req.Currency)
			})
		} else {
			err = s.db.Retry(ctx, func(ctx context.Context) error { return exec(ctx, s.db.Pool) })
			if err == nil {
				err = s.classify(ctx, s.db.Pool, &out, playerID, idemKey, req.Currency)
			}
		}
		if !errors.Is(err, errNoWallet) || ensured {
			break
		}
		// First economy access: create the wallet, then buy.
		if err = s.db.RunTx(ctx, func(ctx context.Context, tx pgx.Tx) error { return s.ensureWallets(ctx, tx, playerID) }); err != nil {
			break
		}
	}
	var rp replayed
	switch {
	case err == nil:
		res.Balance = *out.balance
		return res, nil
	case errors.As(err, &rp):
		return s.replayPurchase(ctx, rp.req, hash)
	case isKeyRace(err):
		return s.replayPurchaseKey(ctx, playerID, idemKey, hash)
	case isStackFull(err):
		return nil, detail(ErrStackFull, "at most %d %s fit in a stack", it.MaxStack, it.ID)
	case errors.Is(err, errUnknownPlayer):
		return nil, ErrUnknownPlayer
	case errors.Is(err, errNoWallet):
		return nil, fmt.Errorf("purchase: wallet still missing after creating it")
	}
	return nil, err
}

// checkLimited enforces per-player limits and global stock, in the
// purchase's transaction. Only limited items pay for these round trips.
func (s *Service) checkLimited(ctx context.Context, tx pgx.Tx, playerID, idemKey string, it *Item, qty int64) error {
	// A retry must be answered before the limits: the first attempt may be
	// what used the last unit.
	prev, err := lookupRequest(ctx, tx, playerID, idemKey)
	if err != nil {
		return err
	}
	if prev != nil {
		return replayed{prev}
	}
	if it.PerPlayerLimit != nil {
		// Limited items are rare: scanning the player's ledger through
		// transactions_player_idx beats an index every purchase maintains.
		var bought int64
		if err := tx.QueryRow(ctx, `SELECT COALESCE(sum(quantity), 0) FROM transactions
			WHERE player_id = $1 AND item_id = $2 AND reason = 'purchase' AND status = 'completed'`, playerID, it.ID).Scan(&bought); err != nil {
			return fmt.Errorf("count purchases: %w", err)
		}
		if bought+qty > *it.PerPlayerLimit {
			return detail(ErrLimitReached, "%s is limited to %d per player; you have bought %d", it.ID, *it.PerPlayerLimit, bought)
		}
	}
	if it.Limited {
		var remaining *int64
		var rows int64
		err := tx.QueryRow(ctx, `
			WITH u AS (UPDATE item_stock SET remaining = remaining - $2 WHERE item_template_id = $1 AND remaining >= $2 RETURNING remaining)
			SELECT (SELECT remaining FROM u), (SELECT count(*) FROM item_stock WHERE item_template_id = $1)`, it.ID, qty).Scan(&remaining, &rows)
		if err != nil {
			return fmt.Errorf("take stock: %w", err)
		}
		// No stock row means an operator lifted the limit since the cache loaded.
		if remaining == nil && rows > 0 {
			return detail(ErrSoldOut, "%s is sold out", it.ID)
		}
	}
	return nil
}

// replayPurchaseKey answers a request that lost the race to insert its key.
func (s *Service) replayPurchaseKey(ctx context.Context, playerID, idemKey, hash string) (*PurchaseResult, error) {
	var prev *storedRequest
	err := s.db.RunTx(ctx, func(ctx context.Context, tx pgx.Tx) (err error) {
		prev, err = lookupRequest(ctx, tx, playerID, idemKey)
		return err
	})
	if err != nil {
		return nil, err
	}
	if prev == nil {
		return nil, fmt.Errorf("idempotency key %q raced but no record exists", idemKey)
	}
	return s.replayPurchase(ctx, prev, hash)
}

// replayPurchase rebuilds the first answer from its ledger row.
func (s *Service) replayPurchase(ctx context.Context, prev *storedRequest, hash string) (*PurchaseResult, error) {
	if prev.hash != hash {
		return nil, ErrKeyReused
	}
	if prev.txID == nil {
		return nil, ErrKeyReused // the key belongs to another kind of request
	}
	res := &PurchaseResult{TransactionID: *prev.txID, Replayed: true}
	var details []byte
	var item *string
	var balance *int64
	err := s.db.Pool.QueryRow(ctx, `SELECT item_id, quantity, currency_type, -amount, balance_after, details FROM transactions WHERE id = $1`,
		*prev.txID).Scan(&item, &res.Quantity, &res.Currency, &res.Price, &balance, &details)
	if err != nil {
		return nil, fmt.Errorf("replay purchase %s: %w", *prev.txID, err)
	}
	var d purchaseDetails
	if err := json.Unmarshal(details, &d); err != nil {
		return nil, fmt.Errorf("replay purchase %s: details: %w", *prev.txID, err)
	}
	if item != nil {
		res.ItemTemplateID = *item
	}
	if balance != nil {
		res.Balance = *balance
	}
	res.InventoryItemIDs = d.InventoryItemIDs
	return res, nil
}

func (s *Service) purchase(w http.ResponseWriter, r *http.Request) error {
	key, err := RequestKey(r)
	if err != nil {
		return err
	}
	var req PurchaseRequest
	if err := httpx.DecodeJSON(w, r, &req, maxPurchaseBody); err != nil {
		return err
	}
	res, err := s.Purchase(r.Context(), authn.PlayerID(r.Context()), key, req)
	if err != nil {
		return err
	}
	if res.Replayed {
		w.Header().Set(ReplayedHeader, "true")
	}
	httpx.WriteJSON(w, http.StatusCreated, res)
	return nil
}
