package economy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/atollgg/atoll/internal/authn"
	"github.com/atollgg/atoll/internal/httpx"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// maxInventoryBody bounds the inventory actions' bodies: a quantity or a
// flag fits many times over.
const maxInventoryBody = 1 << 10

// Error codes of the inventory actions.
const CodeNotEnoughItems = "not_enough_items"

// ErrNotEnoughItems is returned when consuming more than a stack holds.
var ErrNotEnoughItems = httpx.Conflict(CodeNotEnoughItems, "the stack holds fewer items than that")

// ErrNoSuchItem is returned for an inventory item the caller does not own;
// other players' items are indistinguishable from missing ones.
var ErrNoSuchItem = httpx.NotFound("no such item in your inventory")

// InventoryItem is one entry of a player's inventory.
type InventoryItem struct {
	ID             string `json:"id"`
	PlayerID       string `json:"player_id"`
	ItemTemplateID string `json:"item_template_id"`
	// Name and Category come from the catalog, for display.
	Name         string          `json:"name,omitempty"`
	Category     string          `json:"category,omitempty"`
	Quantity     int64           `json:"quantity"`
	AcquiredDate time.Time       `json:"acquired_date"`
	IsEquipped   bool            `json:"is_equipped"`
	IsPublic     bool            `json:"is_public"`
	Attributes   json.RawMessage `json:"attributes,omitempty"`
}

// InventoryPage is the body of GET /inventory/{playerId}.
type InventoryPage struct {
	PlayerID string          `json:"player_id"`
	Items    []InventoryItem `json:"items"`
	// NextCursor fetches the next (older) page; empty on the last page.
	NextCursor string `json:"next_cursor,omitempty"`
}

const inventoryColumns = `id::TEXT, player_id::TEXT, item_template_id, quantity, acquired_date, is_equipped, is_public, attributes`

func (s *Service) scanInventory(ctx context.Context, row pgx.Row) (InventoryItem, error) {
	var it InventoryItem
	var attrs []byte
	if err := row.Scan(&it.ID, &it.PlayerID, &it.ItemTemplateID, &it.Quantity, &it.AcquiredDate, &it.IsEquipped, &it.IsPublic, &attrs); err != nil {
		return it, err
	}
	if string(attrs) != "{}" {
		it.Attributes = attrs
	}
	if t, ok := s.catalog.get(ctx).item(it.ItemTemplateID); ok {
		it.Name, it.Category = t.Name, t.Category
	}
	return it, nil
}

// Inventory lists playerID's items, newest first, limit items after cursor
// (a NextCursor; "" for the first page); publicOnly keeps those the player
// marked public.
func (s *Service) Inventory(ctx context.Context, playerID string, publicOnly bool, limit int, cursor string) (InventoryPage, error) {
	page := InventoryPage{PlayerID: playerID, Items: []InventoryItem{}}
	after, err := pageStart(cursor)
	if err != nil {
		return page, err
	}
	args := []any{playerID, limit + 1}
	where := ""
	if publicOnly {
		where += ` AND is_public`
	}
	if after != nil {
		where += ` AND (acquired_date, id) < ($3, $4)`
		args = append(args, after.at, after.id)
	}
	rows, err := s.db.Pool.Query(ctx, `SELECT `+inventoryColumns+` FROM inventory_items WHERE player_id = $1`+where+
		` ORDER BY acquired_date DESC, id DESC LIMIT $2`, args...)
	if err != nil {
		return page, fmt.Errorf("list inventory: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		it, err := s.scanInventory(ctx, rows)
		if err != nil {
			return page, fmt.Errorf("list inventory: %w", err)
		}
		page.Items = append(page.Items, it)
	}
	if err := rows.Err(); err != nil {
		return page, fmt.Errorf("list inventory: %w", err)
	}
	if len(page.Items) > limit {
		page.Items = page.Items[:limit]
		last := page.Items[limit-1]
		page.NextCursor = encodeCursor(position{at: last.AcquiredDate, id: last.ID})
	}
	return page, nil
}

func (s *Service) getInventory(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	caller := authn.PlayerID(ctx)
	id := r.PathValue("playerId")
	if id == "me" {
		id = caller
	}
	u, err := uuid.Parse(id)
	if err != nil {
		return httpx.BadRequest("playerId must be a UUID or me")
	}
	id = u.String()
	limit, cur, err := pageParams(r)
	if err != nil {
		return err
	}
	owner := id == caller
	page, err := s.Inventory(ctx, id, !owner, limit, cur)
	if err != nil {
		return err
	}
	// Another player's inventory is visible only through items its owner
	// made public; an unknown player looks the same, so ids cannot be probed.
	if !owner && cur == "" && len(page.Items) == 0 {
		return httpx.Forbidden("this player's inventory is private")
	}
	w.Header().Set("Cache-Control", "no-store")
	httpx.WriteJSON(w, http.StatusOK, page)
	return nil
}

// itemID reads the {itemId} path value.
func itemID(r *http.Request) (string, error) {
	u, err := uuid.Parse(r.PathValue("itemId"))
	if err != nil {
		return "", httpx.BadRequest("itemId must be a UUID")
	}
	return u.String(), nil
}

// setFlag sets a boolean column of an owned item.
func (s *Service) setFlag(ctx context.Context, playerID, id, column string, v bool) (InventoryItem, error) {
	var it InventoryItem
	err := s.db.RunTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		var err error
		it, err = s.scanInventory(ctx, tx.QueryRow(ctx, `UPDATE inventory_items SET `+column+` = $3 WHERE id = $1 AND player_id = $2 RETURNING `+inventoryColumns, id, playerID, v))
		return err
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return it, ErrNoSuchItem
	}
	if err != nil {
		return it, fmt.Errorf("update item: %w", err)
	}
	return it, nil
}

func (s *Service) equipHandler(equip bool) func(http.ResponseWriter, *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		id, err := itemID(r)
		if err != nil {
			return err
		}
		it, err := s.setFlag(r.Context(), authn.PlayerID(r.Context()), id, "is_equipped", equip)
		if err != nil {
			return err
		}
		httpx.WriteJSON(w, http.StatusOK, it)
		return nil
	}
}

// VisibilityRequest is the body of POST /inventory/{itemId}/visibility.
type VisibilityRequest struct {
	Public *bool `json:"public"`
}

func (s *Service) visibility(w http.ResponseWriter, r *http.Request) error {
	id, err := itemID(r)
	if err != nil {
		return err
	}
	var req VisibilityRequest
	if err := httpx.DecodeJSON(w, r, &req, maxInventoryBody); err != nil {
		return err
	}
	if req.Public == nil {
		return httpx.BadRequest("public is required: true or false")
	}
	it, err := s.setFlag(r.Context(), authn.PlayerID(r.Context()), id, "is_public", *req.Public)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, it)
	return nil
}

// ConsumeRequest is the body of POST /inventory/{itemId}/consume.
type ConsumeRequest struct {
	// Quantity defaults to 1.
	Quantity int64 `json:"quantity,omitempty"`
}

func (req *ConsumeRequest) normalize() error {
	if req.Quantity == 0 {
		req.Quantity = 1
	}
	if req.Quantity < 1 || req.Quantity > MaxAmount {
		return httpx.BadRequest("quantity must be between 1 and %d", int64(MaxAmount))
	}
	return nil
}

// ConsumeResult is the answer to a consume, identical on every retry.
type ConsumeResult struct {
	ItemID         string `json:"item_id"`
	ItemTemplateID string `json:"item_template_id"`
	Consumed       int64  `json:"consumed"`
	// Remaining is what is left; 0 means the item is gone.
	Remaining int64 `json:"remaining"`
	Replayed  bool  `json:"-"`
}

// Consume uses up quantity of an owned item; at zero the item is removed.
// With a key, a retry returns the first result instead of consuming again.
func (s *Service) Consume(ctx context.Context, playerID, id, key string, quantity int64) (*ConsumeResult, error) {
	req := ConsumeRequest{Quantity: quantity}
	if err := req.normalize(); err != nil {
		return nil, err
	}
	if key != "" && !ValidKey(key) {
		return nil, httpx.BadRequest("idempotency key must be 1-%d printable ASCII characters", MaxKeyLength)
	}
	idemKey := playerKeyPrefix + key
	hash := RequestHash(kindConsume, id, strconv.FormatInt(req.Quantity, 10))
	var res ConsumeResult
	err := s.db.RunTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		res = ConsumeResult{ItemID: id, Consumed: req.Quantity}
		if key != "" {
			prev, err := lookupRequest(ctx, tx, playerID, idemKey)
			if err != nil {
				return err
			}
			if prev != nil {
				return replayed{prev}
			}
		}
		err := tx.QueryRow(ctx, `UPDATE inventory_items SET quantity = quantity - $3 WHERE id = $1 AND player_id = $2 AND quantity > $3
			RETURNING item_template_id, quantity`, id, playerID, req.Quantity).Scan(&res.ItemTemplateID, &res.Remaining)
		if errors.Is(err, pgx.ErrNoRows) {
			// Consuming exactly what is left removes the item.
			var have int64
			err = tx.QueryRow(ctx, `SELECT item_template_id, quantity FROM inventory_items WHERE id = $1 AND player_id = $2`, id, playerID).Scan(&res.ItemTemplateID, &have)
			switch {
			case errors.Is(err, pgx.ErrNoRows):
				return ErrNoSuchItem
			case err != nil:
				return fmt.Errorf("read item: %w", err)
			case have < req.Quantity:
				return detail(ErrNotEnoughItems, "you have %d, cannot consume %d", have, req.Quantity)
			}
			if _, err := tx.Exec(ctx, `DELETE FROM inventory_items WHERE id = $1 AND player_id = $2`, id, playerID); err != nil {
				return fmt.Errorf("remove item: %w", err)
			}
		} else if err != nil {
			return fmt.Errorf("consume: %w", err)
		}
		if key != "" {
			return recordRequest(ctx, tx, playerID, idemKey, hash, nil, res)
		}
		return nil
	})
	var rp replayed
	switch {
	case err == nil:
		return &res, nil
	case errors.As(err, &rp):
		return replayConsume(rp.req, hash)
	case isKeyRace(err):
		var prev *storedRequest
		if err := s.db.RunTx(ctx, func(ctx context.Context, tx pgx.Tx) (err error) {
			prev, err = lookupRequest(ctx, tx, playerID, idemKey)
			return err
		}); err != nil {
			return nil, err
		}
		if prev == nil {
			return nil, errors.New("consume: idempotency key raced but no record exists")
		}
		return replayConsume(prev, hash)
	}
	return nil, err
}

func replayConsume(prev *storedRequest, hash string) (*ConsumeResult, error) {
	if prev.hash != hash || prev.result == nil {
		return nil, ErrKeyReused
	}
	var res ConsumeResult
	if err := json.Unmarshal(prev.result, &res); err != nil {
		return nil, fmt.Errorf("replay consume: %w", err)
	}
	res.Replayed = true
	return &res, nil
}

func (s *Service) consume(w http.ResponseWriter, r *http.Request) error {
	id, err := itemID(r)
	if err != nil {
		return err
	}
	key := r.Header.Get(IdempotencyHeader)
	var req ConsumeRequest
	// An empty body consumes one.
	if r.ContentLength != 0 {
		if err := httpx.DecodeJSON(w, r, &req, maxInventoryBody); err != nil {
			return err
		}
	}
	res, err := s.Consume(r.Context(), authn.PlayerID(r.Context()), id, key, req.Quantity)
	if err != nil {
		return err
	}
	if res.Replayed {
		w.Header().Set(ReplayedHeader, "true")
	}
	httpx.WriteJSON(w, http.StatusOK, res)
	return nil
}
