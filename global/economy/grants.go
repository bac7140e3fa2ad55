package economy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"unicode/utf8"

	"github.com/atollgg/atoll/global/audit"
	"github.com/atollgg/atoll/internal/authn"
	"github.com/atollgg/atoll/internal/httpx"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// Grant limits.
const (
	// maxGrantItems bounds the item lines of one grant: a match reward or a
	// support compensation lists a handful.
	maxGrantItems = 20
	// maxNote bounds the free-text note kept in the ledger and audit log.
	maxNote = 200
	// maxGrantBody bounds POST /internal/v1/economy/grants: 20 item lines
	// with attributes of up to 4 KiB each.
	maxGrantBody = 128 << 10
	// maxAdminGrantBody bounds the admin grant: four short fields.
	maxAdminGrantBody = 2 << 10
)

// Ledger reasons a grant may carry.
const (
	ReasonReward = "reward"
	ReasonGrant  = "grant"
	ReasonRefund = "refund"
)

// ItemGrant is one item line of a grant.
type ItemGrant struct {
	ItemTemplateID string `json:"item_template_id"`
	Quantity       int64  `json:"quantity"`
	// Attributes replace the template's for non-stackable instances.
	Attributes json.RawMessage `json:"attributes,omitempty"`
}

// GrantRequest is a server-side change of a player's wallet, inventory and
// xp: a match reward, an admin grant or a correction.
type GrantRequest struct {
	PlayerID string `json:"player_id"`
	// Key makes the grant exactly-once for this player, e.g. "match:<id>".
	Key string `json:"idempotency_key"`
	// Reason is the ledger reason: reward, grant or refund.
	Reason string `json:"reason"`
	// Currencies maps a currency to a signed amount; a negative amount
	// (a correction) needs the funds.
	Currencies map[string]int64 `json:"currencies,omitempty"`
	Items      []ItemGrant      `json:"items,omitempty"`
	XP         int64            `json:"xp,omitempty"`
	// Note is free text for the ledger and audit log; never PII.
	Note string `json:"note,omitempty"`
	// Actor is who grants, for the audit log: "admin", "cell:<id>", "system".
	Actor string `json:"-"`
}

// GrantedItem is one item line as applied.
type GrantedItem struct {
	ItemTemplateID   string   `json:"item_template_id"`
	Quantity         int64    `json:"quantity"`
	InventoryItemIDs []string `json:"inventory_item_ids"`
}

// GrantResult is the outcome of a grant, identical on every retry.
type GrantResult struct {
	PlayerID     string        `json:"player_id"`
	Key          string        `json:"idempotency_key"`
	Transactions []Applied     `json:"transactions"`
	Items        []GrantedItem `json:"items"`
	Progress     *Progress     `json:"progress,omitempty"`
	Replayed     bool          `json:"-"`
}

// validate checks req against the configuration and catalog.
func (s *Service) validateGrant(ctx context.Context, req *GrantRequest) error {
	u, err := uuid.Parse(req.PlayerID)
	if err != nil {
		return httpx.BadRequest("player_id must be a UUID")
	}
	req.PlayerID = u.String()
	if !ValidKey(req.Key) {
		return httpx.BadRequest("idempotency_key must be 1-%d printable ASCII characters without spaces", MaxKeyLength)
	}
	switch req.Reason {
	case ReasonReward, ReasonGrant, ReasonRefund:
	default:
		return httpx.BadRequest("reason must be reward, grant or refund")
	}
	if len(req.Currencies) == 0 && len(req.Items) == 0 && req.XP == 0 {
		return httpx.BadRequest("a grant needs currencies, items or xp")
	}
	for c, amt := range req.Currencies {
		if !s.currencies.known(c) {
			return httpx.BadRequest("unknown currency %q", c)
		}
		if amt == 0 || amt > MaxAmount || amt < -MaxAmount {
			return httpx.BadRequest("amount of %s must be non-zero and at most %d in size", c, int64(MaxAmount))
		}
	}
	if len(req.Items) > maxGrantItems {
		return httpx.BadRequest("at most %d item lines per grant", maxGrantItems)
	}
	snap := s.catalog.get(ctx)
	for i := range req.Items {
		ig := &req.Items[i]
		it, ok := snap.item(ig.ItemTemplateID)
		if !ok {
			return detail(ErrUnknownItem, "no item %q in the catalog", ig.ItemTemplateID)
		}
		max := int64(MaxPurchaseQuantity)
		if it.Stackable {
			max = it.MaxStack
		}
		if ig.Quantity < 1 || ig.Quantity > max {
			return httpx.BadRequest("quantity of %s must be between 1 and %d", it.ID, max)
		}
		if len(ig.Attributes) > 0 {
			if it.Stackable {
				return httpx.BadRequest("%s is stackable: its units cannot carry attributes", it.ID)
			}
			attrs, p := compactAttributes(ig.Attributes)
			if p != "" {
				return httpx.BadRequest("%s: %s", it.ID, p)
			}
			ig.Attributes = attrs
		}
	}
	if req.XP < 0 || req.XP > MaxXPGrant {
		return httpx.BadRequest("xp must be between 0 and %d", MaxXPGrant)
	}
	if !utf8.ValidString(req.Note) || utf8.RuneCountInString(req.Note) > maxNote {
		return httpx.BadRequest("note must be at most %d characters of UTF-8", maxNote)
	}
	if req.Actor == "" {
		return errors.New("grant: actor is required")
	}
	return nil
}

// hash fingerprints everything that shapes the grant's effect.
func (req *GrantRequest) hash() string {
	b, _ := json.Marshal(struct {
		R string           `json:"r"`
		C map[string]int64 `json:"c"`
		I []ItemGrant      `json:"i"`
		X int64            `json:"x"`
		N string           `json:"n"`
	}{req.Reason, req.Currencies, req.Items, req.XP, req.Note})
	return RequestHash(kindGrant, string(b))
}

// Grant applies req exactly once per (player, key): a retry returns the
// first result, the same key with a different request fails with
// ErrKeyReused. With tx nil it runs its own transaction; otherwise it joins
// tx (e.g. an event consumer committing its applied-marker with the grant)
// and the caller's transaction runner retries it. Every grant is audited.
func (s *Service) Grant(ctx context.Context, tx pgx.Tx, req GrantRequest) (*GrantResult, error) {
	if err := s.validateGrant(ctx, &req); err != nil {
		return nil, err
	}
	if tx != nil {
		return s.grantTx(ctx, tx, &req)
	}
	var res *GrantResult
	err := s.db.RunTx(ctx, func(ctx context.Context, tx pgx.Tx) (err error) {
		res, err = s.grantTx(ctx, tx, &req)
		return err
	})
	if isKeyRace(err) {
		err = s.db.RunTx(ctx, func(ctx context.Context, tx pgx.Tx) (err error) {
			res, err = s.grantTx(ctx, tx, &req)
			return err
		})
	}
	return res, err
}

func (s *Service) grantTx(ctx context.Context, tx pgx.Tx, req *GrantRequest) (*GrantResult, error) {
	idemKey := serverKeyPrefix + req.Key
	hash := req.hash()
	prev, err := lookupRequest(ctx, tx, req.PlayerID, idemKey)
	if err != nil {
		return nil, err
	}
	if prev != nil {
		if prev.hash != hash || prev.result == nil {
			return nil, ErrKeyReused
		}
		var res GrantResult
		if err := json.Unmarshal(prev.result, &res); err != nil {
			return nil, fmt.Errorf("replay grant: %w", err)
		}
		res.Replayed = true
		return &res, nil
	}
	if err := s.ensureWallets(ctx, tx, req.PlayerID); err != nil {
		if errors.Is(err, errUnknownPlayer) {
			return nil, ErrUnknownPlayer
		}
		return nil, err
	}
	details, err := json.Marshal(map[string]string{"note": req.Note, "actor": req.Actor})
	if err != nil {
		return nil, fmt.Errorf("encode grant details: %w", err)
	}
	res := &GrantResult{PlayerID: req.PlayerID, Key: req.Key, Transactions: []Applied{}, Items: []GrantedItem{}}
	codes := make([]string, 0, len(req.Currencies))
	for c := range req.Currencies {
		codes = append(codes, c)
	}
	sort.Strings(codes)
	for _, c := range codes {
		a, err := s.apply(ctx, tx, Entry{PlayerID: req.PlayerID, Currency: c, Amount: req.Currencies[c], Reason: req.Reason, Key: req.Key, Details: details})
		if err != nil {
			return nil, err
		}
		res.Transactions = append(res.Transactions, a)
	}
	snap := s.catalog.get(ctx)
	for _, ig := range req.Items {
		it, _ := snap.item(ig.ItemTemplateID)
		g, err := s.grantItem(ctx, tx, req, it, ig)
		if err != nil {
			return nil, err
		}
		res.Items = append(res.Items, g)
	}
	if req.XP > 0 {
		p, err := s.addXP(ctx, tx, req.PlayerID, req.XP)
		if err != nil {
			if errors.Is(err, errUnknownPlayer) {
				return nil, ErrUnknownPlayer
			}
			return nil, err
		}
		res.Progress = &p
	}
	if err := recordRequest(ctx, tx, req.PlayerID, idemKey, hash, nil, res); err != nil {
		return nil, err
	}
	if err := audit.Write(ctx, tx, audit.Event{Kind: audit.EconomyGrant, PlayerID: req.PlayerID, Actor: req.Actor, Details: map[string]any{
		"idempotency_key": req.Key, "reason": req.Reason, "currencies": req.Currencies, "items": req.Items, "xp": req.XP, "note": req.Note,
	}}); err != nil {
		return nil, err
	}
	return res, nil
}

// grantItem adds one item line to the inventory with its ledger row (no
// currency, amount 0): items are not balances, but the ledger shows them.
func (s *Service) grantItem(ctx context.Context, tx pgx.Tx, req *GrantRequest, it *Item, ig ItemGrant) (GrantedItem, error) {
	g := GrantedItem{ItemTemplateID: it.ID, Quantity: ig.Quantity}
	perRow, attrs := int64(1), []byte(it.Attributes)
	if len(ig.Attributes) > 0 {
		attrs = ig.Attributes
	}
	if it.Stackable {
		g.InventoryItemIDs = []string{StackID(req.PlayerID, it.ID)}
		perRow, attrs = ig.Quantity, []byte("{}")
	} else {
		for range ig.Quantity {
			g.InventoryItemIDs = append(g.InventoryItemIDs, uuid.NewString())
		}
	}
	details, err := json.Marshal(map[string]any{"inventory_item_ids": g.InventoryItemIDs, "note": req.Note, "actor": req.Actor})
	if err != nil {
		return g, fmt.Errorf("encode grant details: %w", err)
	}
	var granted int64
	err = tx.QueryRow(ctx, `
		WITH inv AS (
			INSERT INTO inventory_items (id, player_id, item_template_id, quantity, attributes)
			SELECT u.id, $1, $2, $3, $4 FROM unnest($5::UUID[]) AS u (id)
			ON CONFLICT (id) DO UPDATE SET quantity = inventory_items.quantity + excluded.quantity
			WHERE inventory_items.quantity + excluded.quantity <= $6
			RETURNING 1
		), led AS (
			INSERT INTO transactions (player_id, item_id, quantity, currency_type, amount, status, reason, idempotency_key, details)
			SELECT $1, $2, $7, '', 0, 'completed', $8, $9, $10 WHERE (SELECT count(*) FROM inv) = $11
		)
		SELECT count(*) FROM inv`,
		req.PlayerID, it.ID, perRow, string(attrs), g.InventoryItemIDs, it.MaxStack, ig.Quantity, req.Reason, req.Key, string(details),
		int64(len(g.InventoryItemIDs))).Scan(&granted)
	if err != nil {
		return g, fmt.Errorf("grant %s: %w", it.ID, err)
	}
	if granted != int64(len(g.InventoryItemIDs)) {
		return g, detail(ErrStackFull, "the player's stack of %s cannot take %d more (max %d)", it.ID, ig.Quantity, it.MaxStack)
	}
	return g, nil
}

// ServiceGrantRequest is the body of POST /internal/v1/economy/grants: a
// reward for a finished match, sent by a cell.
type ServiceGrantRequest struct {
	PlayerID       string           `json:"player_id"`
	IdempotencyKey string           `json:"idempotency_key"`
	Currencies     map[string]int64 `json:"currencies,omitempty"`
	Items          []ItemGrant      `json:"items,omitempty"`
	XP             int64            `json:"xp,omitempty"`
	Note           string           `json:"note,omitempty"`
}

// toGrant turns a cell's request into a reward grant. Cells only ever add.
func (b ServiceGrantRequest) toGrant(actor string) (GrantRequest, error) {
	for c, amt := range b.Currencies {
		if amt <= 0 {
			return GrantRequest{}, httpx.BadRequest("reward amounts must be positive (%s: %d)", c, amt)
		}
	}
	return GrantRequest{PlayerID: b.PlayerID, Key: b.IdempotencyKey, Reason: ReasonReward, Currencies: b.Currencies,
		Items: b.Items, XP: b.XP, Note: b.Note, Actor: actor}, nil
}

func (s *Service) serviceGrant(w http.ResponseWriter, r *http.Request) error {
	var body ServiceGrantRequest
	if err := httpx.DecodeJSON(w, r, &body, maxGrantBody); err != nil {
		return err
	}
	principal, _ := authn.ServiceFrom(r.Context())
	req, err := body.toGrant("cell:" + principal)
	if err != nil {
		return err
	}
	perms, _ := authn.PermissionsFrom(r.Context())
	if err := s.checkRewardCaps(perms, req.Currencies); err != nil {
		return err
	}
	res, err := s.Grant(r.Context(), nil, req)
	if err != nil {
		return err
	}
	if res.Replayed {
		w.Header().Set(ReplayedHeader, "true")
	}
	httpx.WriteJSON(w, http.StatusOK, res)
	return nil
}

// AdminGrantRequest is the body of POST /admin/players/{playerId}/grant.
type AdminGrantRequest struct {
	Currency string `json:"currency"`
	// Amount is signed: negative takes currency back (it needs the funds).
	Amount int64 `json:"amount"`
	// Reason is the operator's justification, kept in the ledger and audit log.
	Reason         string `json:"reason"`
	IdempotencyKey string `json:"idempotency_key"`
}

func (b AdminGrantRequest) toGrant(playerID string) (GrantRequest, error) {
	if b.Reason == "" {
		return GrantRequest{}, httpx.BadRequest("reason is required: say why, for the audit log")
	}
	if b.Currency == "" {
		return GrantRequest{}, httpx.BadRequest("currency is required")
	}
	return GrantRequest{PlayerID: playerID, Key: b.IdempotencyKey, Reason: ReasonGrant, Currencies: map[string]int64{b.Currency: b.Amount},
		Note: b.Reason, Actor: "admin"}, nil
}

func (s *Service) adminGrant(w http.ResponseWriter, r *http.Request) error {
	var body AdminGrantRequest
	if err := httpx.DecodeJSON(w, r, &body, maxAdminGrantBody); err != nil {
		return err
	}
	req, err := body.toGrant(r.PathValue("playerId"))
	if err != nil {
		return err
	}
	if err := s.validateGrant(r.Context(), &req); err != nil {
		return err
	}
	var res *GrantResult
	run := func() error {
		return s.db.RunTx(r.Context(), func(ctx context.Context, tx pgx.Tx) (err error) {
			if res, err = s.grantTx(ctx, tx, &req); err != nil {
				return err
			}
			return s.auditAdmin(ctx, tx, "grant", req.PlayerID, map[string]any{"idempotency_key": req.Key, "currency": body.Currency,
				"amount": body.Amount, "reason": body.Reason, "replayed": res.Replayed})
		})
	}
	err = run()
	if isKeyRace(err) {
		err = run()
	}
	if err != nil {
		return err
	}
	if res.Replayed {
		w.Header().Set(ReplayedHeader, "true")
	}
	httpx.WriteJSON(w, http.StatusOK, res)
	return nil
}

// checkCellScopes refuses a configuration that lets a cell grant a premium
// currency or cap an unknown one.
func checkCellScopes(set Settings, scopes authn.Scopes) error {
	premium := map[string]bool{}
	for _, c := range set.Currencies {
		premium[c.Code] = c.Premium
	}
	for id, p := range scopes {
		for c, n := range p.GrantCaps {
			isPremium, known := premium[c]
			switch {
			case !known:
				return fmt.Errorf("cell %q: grant cap for unknown currency %q", id, c)
			case isPremium && n > 0:
				return fmt.Errorf("cell %q: %s is a premium currency; cells never grant it", id, c)
			case n > MaxAmount:
				return fmt.Errorf("cell %q: grant cap for %s above %d", id, c, int64(MaxAmount))
			}
		}
	}
	return nil
}

// checkRewardCaps holds a cell's reward to its credential: never a premium
// currency, never more of a currency than its cap.
func (s *Service) checkRewardCaps(p authn.Permissions, currencies map[string]int64) error {
	for c, amt := range currencies {
		if cur, ok := s.currencies.byCode[c]; ok && cur.Premium {
			return httpx.Forbidden(fmt.Sprintf("cells never grant the premium currency %s", c))
		}
		if capped := p.GrantCap(c); amt > capped {
			return httpx.Forbidden(fmt.Sprintf("a reward of %d %s exceeds this credential's cap of %d", amt, c, capped))
		}
	}
	return nil
}
