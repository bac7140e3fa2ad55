package economy

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/atollgg/atoll/global/audit"
	"github.com/atollgg/atoll/internal/httpx"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// maxItemBody bounds PUT /admin/catalog/items/{itemId}: an item with 4 KiB
// of attributes.
const maxItemBody = 16 << 10

// auditAdmin records an admin call in tx.
func (s *Service) auditAdmin(ctx context.Context, tx pgx.Tx, action, playerID string, details map[string]any) error {
	if details == nil {
		details = map[string]any{}
	}
	details["action"] = "economy." + action
	return audit.Write(ctx, tx, audit.Event{Kind: audit.AdminAction, PlayerID: playerID, Actor: "admin", Details: details})
}

// adminAudited records every admin call that fails after authentication:
// successful ones write their audit row in the same transaction as their
// change, which a failure rolls back, so the attempt is recorded here.
func (s *Service) adminAudited(action string, h httpx.HandlerFunc) httpx.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		err := h(w, r)
		if err == nil {
			return nil
		}
		code := httpx.CodeInternal
		var he *httpx.Error
		if errors.As(err, &he) {
			code = he.Code
		}
		details := map[string]any{"outcome": "refused", "code": code, "route": r.Pattern}
		for _, k := range []string{"itemId"} {
			if v := r.PathValue(k); v != "" && len(v) <= maxItemIDLength {
				details["item_id"] = v
			}
		}
		player := ""
		if u, perr := uuid.Parse(r.PathValue("playerId")); perr == nil {
			player = u.String()
		}
		ctx := context.WithoutCancel(r.Context())
		if aerr := s.db.RunTx(ctx, func(ctx context.Context, tx pgx.Tx) error { return s.auditAdmin(ctx, tx, action, player, details) }); aerr != nil {
			s.log.ErrorContext(ctx, "audit of a failed admin call failed", "action", action, "err", aerr)
		}
		return err
	}
}

// maxItemIDLength bounds an item id copied into the audit log.
const maxItemIDLength = 64

// AdminItem is a catalog item as operators see it.
type AdminItem struct {
	Item
	// StockRemaining is the remaining global supply; absent when unlimited.
	StockRemaining *int64 `json:"stock_remaining,omitempty"`
}

// AdminCatalog is the body of GET /admin/catalog.
type AdminCatalog struct {
	Items  []AdminItem `json:"items"`
	TopUps []Offer     `json:"topups"`
}

func (s *Service) adminCatalog(w http.ResponseWriter, r *http.Request) error {
	var out AdminCatalog
	err := s.db.RunTx(r.Context(), func(ctx context.Context, tx pgx.Tx) error {
		snap, err := loadCatalog(ctx, tx, s.now())
		if err != nil {
			return err
		}
		stock := map[string]int64{}
		rows, err := tx.Query(ctx, `SELECT item_template_id, remaining FROM item_stock`)
		if err != nil {
			return fmt.Errorf("read stock: %w", err)
		}
		for rows.Next() {
			var id string
			var n int64
			if err := rows.Scan(&id, &n); err != nil {
				rows.Close()
				return fmt.Errorf("read stock: %w", err)
			}
			stock[id] = n
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("read stock: %w", err)
		}
		out = AdminCatalog{Items: make([]AdminItem, 0, len(snap.sorted)), TopUps: s.Offers()}
		for _, it := range snap.sorted {
			ai := AdminItem{Item: *it}
			if n, ok := stock[it.ID]; ok {
				ai.StockRemaining = &n
			}
			out.Items = append(out.Items, ai)
		}
		return s.auditAdmin(ctx, tx, "catalog.list", "", nil)
	})
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, out)
	return nil
}

func (s *Service) adminPutItem(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("itemId")
	var spec ItemSpec
	if err := httpx.DecodeJSON(w, r, &spec, maxItemBody); err != nil {
		return err
	}
	if spec.ID == "" {
		spec.ID = id
	}
	if spec.ID != id {
		return httpx.BadRequest("id in the body (%q) differs from the path (%q)", spec.ID, id)
	}
	if spec.Stock != nil {
		return httpx.BadRequest("set stock with PUT /admin/catalog/items/%s/stock", id)
	}
	it, err := spec.toItem(s.currencies)
	if err != nil {
		return err
	}
	created := false
	err = s.db.RunTx(r.Context(), func(ctx context.Context, tx pgx.Tx) error {
		var stackable bool
		err := tx.QueryRow(ctx, `SELECT stackable FROM item_templates WHERE id = $1`, id).Scan(&stackable)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			created = true
		case err != nil:
			return fmt.Errorf("read item: %w", err)
		case stackable != it.Stackable:
			// Inventories hold one stack row or many instance rows per item;
			// switching would leave them in the other shape.
			return httpx.Conflict(httpx.CodeConflict, "an existing item cannot change between stackable and not; create a new item")
		}
		if _, err := upsertItem(ctx, tx, it, false); err != nil {
			return err
		}
		return s.auditAdmin(ctx, tx, "catalog.put", "", map[string]any{"item_id": id, "created": created, "prices": it.Prices, "active": it.Active})
	})
	if err != nil {
		return err
	}
	if err := s.catalog.reload(r.Context()); err != nil {
		return err
	}
	fresh, _ := s.catalog.get(r.Context()).item(id)
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	httpx.WriteJSON(w, status, fresh)
	return nil
}

func (s *Service) adminDeleteItem(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("itemId")
	found := false
	err := s.db.RunTx(r.Context(), func(ctx context.Context, tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE item_templates SET active = false, updated_at = now() WHERE id = $1`, id)
		if err != nil {
			return fmt.Errorf("retire item: %w", err)
		}
		found = tag.RowsAffected() == 1
		if !found {
			return nil
		}
		return s.auditAdmin(ctx, tx, "catalog.retire", "", map[string]any{"item_id": id})
	})
	if err != nil {
		return err
	}
	if !found {
		return detail(ErrUnknownItem, "no item %q in the catalog", id)
	}
	if err := s.catalog.reload(r.Context()); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// StockRequest is the body of PUT /admin/catalog/items/{itemId}/stock.
type StockRequest struct {
	// Remaining is the supply left; null removes the limit.
	Remaining *int64 `json:"remaining"`
}

func (s *Service) adminSetStock(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("itemId")
	var req StockRequest
	if err := httpx.DecodeJSON(w, r, &req, maxInventoryBody); err != nil {
		return err
	}
	if req.Remaining != nil && (*req.Remaining < 0 || *req.Remaining > MaxAmount) {
		return httpx.BadRequest("remaining must be between 0 and %d, or null for no limit", int64(MaxAmount))
	}
	found := false
	err := s.db.RunTx(r.Context(), func(ctx context.Context, tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM item_templates WHERE id = $1)`, id).Scan(&found); err != nil || !found {
			return err
		}
		if err := setStock(ctx, tx, id, req.Remaining); err != nil {
			return err
		}
		return s.auditAdmin(ctx, tx, "catalog.stock", "", map[string]any{"item_id": id, "remaining": req.Remaining})
	})
	if err != nil {
		return err
	}
	if !found {
		return detail(ErrUnknownItem, "no item %q in the catalog", id)
	}
	if err := s.catalog.reload(r.Context()); err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, req)
	return nil
}

// PlayerEconomy is the support view of one player.
type PlayerEconomy struct {
	PlayerID    string    `json:"player_id"`
	Username    string    `json:"username"`
	DisplayName string    `json:"display_name"`
	Level       int       `json:"player_level"`
	XP          int64     `json:"xp"`
	CreatedAt   time.Time `json:"created_at"`
	Deleted     bool      `json:"deleted"`
	Wallet      Balances  `json:"wallet"`
	// Inventory and Transactions are the newest MaxPageSize entries.
	Inventory    []InventoryItem `json:"inventory"`
	Transactions []Transaction   `json:"transactions"`
	// Mismatches lists wallets that disagree with the ledger; empty is healthy.
	Mismatches []Mismatch `json:"ledger_mismatches"`
}

func (s *Service) adminPlayer(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	u, err := uuid.Parse(r.PathValue("playerId"))
	if err != nil {
		return httpx.BadRequest("playerId must be a UUID")
	}
	id := u.String()
	out := PlayerEconomy{PlayerID: id}
	var deleted *time.Time
	err = s.db.Pool.QueryRow(ctx, `SELECT username, display_name, player_level, xp, created_at, deleted_at FROM players WHERE id = $1`, id).
		Scan(&out.Username, &out.DisplayName, &out.Level, &out.XP, &out.CreatedAt, &deleted)
	if errors.Is(err, pgx.ErrNoRows) {
		return ErrUnknownPlayer
	}
	if err != nil {
		return fmt.Errorf("read player: %w", err)
	}
	out.Deleted = deleted != nil
	if out.Wallet, _, err = s.readBalances(ctx, s.db.Pool, id); err != nil {
		return err
	}
	inv, err := s.Inventory(ctx, id, false, MaxPageSize, "")
	if err != nil {
		return err
	}
	txs, err := s.Transactions(ctx, id, MaxPageSize, "")
	if err != nil {
		return err
	}
	out.Inventory, out.Transactions = inv.Items, txs.Transactions
	if out.Mismatches, err = s.Reconcile(ctx, id); err != nil {
		return err
	}
	if out.Mismatches == nil {
		out.Mismatches = []Mismatch{}
	}
	if err := s.db.RunTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		return s.auditAdmin(ctx, tx, "player.lookup", id, nil)
	}); err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	httpx.WriteJSON(w, http.StatusOK, out)
	return nil
}
