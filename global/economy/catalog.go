package economy

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/atollgg/atoll/internal/httpx"
	"github.com/jackc/pgx/v5"
)

// Catalog limits.
const (
	// DefaultMaxStack is a stackable item's stack size when none is given:
	// large enough for any consumable, small enough to catch runaway grants.
	DefaultMaxStack = 9999
	// maxItemName fits a store tile.
	maxItemName = 64
	// maxAttributes bounds an item's per-instance attributes (stats, rolls);
	// they are copied into every instance row and travel in every inventory read.
	maxAttributes = 4 << 10
	// maxCatalogItems bounds the in-memory catalog and the catalog response.
	maxCatalogItems = 10000
)

var (
	itemIDPattern   = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]{0,63}$`)
	categoryPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,31}$`)
)

// Item is an item template: what the store sells and inventories hold.
type Item struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	Category string `json:"category"`
	// Prices maps a currency to the unit price; empty means unpurchasable.
	Prices    map[string]int64 `json:"prices"`
	Stackable bool             `json:"stackable"`
	// MaxStack is the most one stack holds; 1 for non-stackables.
	MaxStack int64 `json:"max_stack"`
	// PerPlayerLimit bounds how many one player may ever buy; nil is unlimited.
	PerPlayerLimit *int64 `json:"per_player_limit,omitempty"`
	Tradable       bool   `json:"tradable"`
	// SaleStart and SaleEnd bound when the item can be bought; nil is open.
	SaleStart *time.Time `json:"sale_start,omitempty"`
	SaleEnd   *time.Time `json:"sale_end,omitempty"`
	// Attributes are copied into each new instance of a non-stackable item.
	Attributes json.RawMessage `json:"attributes,omitempty"`
	// Active is false for retired items: still shown in inventories, never sold.
	Active bool `json:"active"`
	// Limited is true when the item has a global stock (see item_stock).
	Limited bool `json:"limited"`
}

// ItemSpec is an item as an operator writes it (seed file, admin API).
type ItemSpec struct {
	ID             string           `json:"id"`
	Name           string           `json:"name"`
	Category       string           `json:"category"`
	Prices         map[string]int64 `json:"prices"`
	Stackable      bool             `json:"stackable"`
	MaxStack       int64            `json:"max_stack,omitempty"`
	PerPlayerLimit *int64           `json:"per_player_limit,omitempty"`
	Tradable       bool             `json:"tradable"`
	SaleStart      *time.Time       `json:"sale_start,omitempty"`
	SaleEnd        *time.Time       `json:"sale_end,omitempty"`
	Attributes     json.RawMessage  `json:"attributes,omitempty"`
	// Active defaults to true.
	Active *bool `json:"active,omitempty"`
	// Stock is the initial global supply of a limited item (seed file only;
	// the admin API sets it with PUT /admin/catalog/items/{id}/stock).
	Stock *int64 `json:"stock,omitempty"`
}

// nameProblem describes what is wrong with a display name, or "".
func nameProblem(field, n string, max int) string {
	if !utf8.ValidString(n) || strings.TrimSpace(n) != n || n == "" || utf8.RuneCountInString(n) > max {
		return fmt.Sprintf("%s must be 1-%d characters of UTF-8 without surrounding space", field, max)
	}
	for _, r := range n {
		if unicode.IsControl(r) {
			return field + " contains a control character"
		}
	}
	return ""
}

// compactAttributes checks a JSON object of attributes and returns it
// compacted, or a description of the problem.
func compactAttributes(raw json.RawMessage) ([]byte, string) {
	if len(raw) == 0 || string(raw) == "null" {
		return []byte("{}"), ""
	}
	if len(raw) > maxAttributes {
		return nil, fmt.Sprintf("attributes larger than %d bytes", maxAttributes)
	}
	var obj map[string]any
	if err := json.Unmarshal(raw, &obj); err != nil || obj == nil {
		return nil, "attributes must be a JSON object"
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, raw); err != nil {
		return nil, "attributes must be a JSON object"
	}
	return buf.Bytes(), ""
}

// toItem validates spec against the configured currencies.
func (spec ItemSpec) toItem(cs currencySet) (Item, error) {
	var errs []string
	add := func(format string, args ...any) { errs = append(errs, fmt.Sprintf(format, args...)) }
	if !itemIDPattern.MatchString(spec.ID) {
		add("id %q: want 1-64 of a-z 0-9 _ . - starting with a letter or digit", spec.ID)
	}
	if p := nameProblem("name", spec.Name, maxItemName); p != "" {
		add("%s", p)
	}
	if !categoryPattern.MatchString(spec.Category) {
		add("category %q: want 1-32 of a-z 0-9 _ -", spec.Category)
	}
	prices := map[string]int64{}
	for c, p := range spec.Prices {
		if !cs.known(c) {
			add("price in unknown currency %q", c)
		}
		if p < 0 || p > MaxAmount {
			add("price in %s must be between 0 and %d", c, int64(MaxAmount))
		}
		prices[c] = p
	}
	maxStack := spec.MaxStack
	switch {
	case spec.Stackable && maxStack == 0:
		maxStack = DefaultMaxStack
	case spec.Stackable && (maxStack < 1 || maxStack > MaxAmount):
		add("max_stack must be between 1 and %d", int64(MaxAmount))
	case !spec.Stackable && maxStack > 1:
		add("max_stack applies to stackable items only")
	case !spec.Stackable:
		maxStack = 1
	}
	if spec.PerPlayerLimit != nil && (*spec.PerPlayerLimit < 1 || *spec.PerPlayerLimit > MaxAmount) {
		add("per_player_limit must be at least 1 (omit it for no limit)")
	}
	if spec.SaleStart != nil && spec.SaleEnd != nil && !spec.SaleEnd.After(*spec.SaleStart) {
		add("sale_end must be after sale_start")
	}
	if spec.Stock != nil && (*spec.Stock < 0 || *spec.Stock > MaxAmount) {
		add("stock must be between 0 and %d", int64(MaxAmount))
	}
	attrs, p := compactAttributes(spec.Attributes)
	if p != "" {
		add("%s", p)
	}
	if len(errs) > 0 {
		return Item{}, httpx.BadRequest("item %s: %s", spec.ID, strings.Join(errs, "; "))
	}
	active := spec.Active == nil || *spec.Active
	return Item{
		ID: spec.ID, Name: spec.Name, Category: spec.Category, Prices: prices, Stackable: spec.Stackable,
		MaxStack: maxStack, PerPlayerLimit: spec.PerPlayerLimit, Tradable: spec.Tradable,
		SaleStart: utcPtr(spec.SaleStart), SaleEnd: utcPtr(spec.SaleEnd), Attributes: attrs, Active: active,
		Limited: spec.Stock != nil,
	}, nil
}

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC().Truncate(time.Microsecond)
	return &u
}

// onSale reports whether the item can be bought at now.
func (it *Item) onSale(now time.Time) bool {
	return it.Active && len(it.Prices) > 0 &&
		(it.SaleStart == nil || !now.Before(*it.SaleStart)) &&
		(it.SaleEnd == nil || now.Before(*it.SaleEnd))
}

// catalogSnap is an immutable copy of the catalog.
type catalogSnap struct {
	byID   map[string]*Item
	sorted []*Item
	loaded time.Time
}

func (c *catalogSnap) item(id string) (*Item, bool) {
	it, ok := c.byID[id]
	return it, ok
}

// loadCatalog reads every item template.
func loadCatalog(ctx context.Context, q interface {
	Query(context.Context, string, ...any) (pgx.Rows, error)
}, now time.Time) (*catalogSnap, error) {
	rows, err := q.Query(ctx, `
		SELECT t.id, t.name, t.category, t.prices, t.stackable, t.max_stack, t.per_player_limit, t.tradable,
			t.sale_start, t.sale_end, t.attributes, t.active, s.item_template_id IS NOT NULL
		FROM item_templates AS t LEFT JOIN item_stock AS s ON s.item_template_id = t.id
		ORDER BY t.id LIMIT `+fmt.Sprint(maxCatalogItems))
	if err != nil {
		return nil, fmt.Errorf("load catalog: %w", err)
	}
	defer rows.Close()
	snap := &catalogSnap{byID: map[string]*Item{}, loaded: now}
	for rows.Next() {
		it := &Item{}
		var prices, attrs []byte
		if err := rows.Scan(&it.ID, &it.Name, &it.Category, &prices, &it.Stackable, &it.MaxStack, &it.PerPlayerLimit, &it.Tradable,
			&it.SaleStart, &it.SaleEnd, &attrs, &it.Active, &it.Limited); err != nil {
			return nil, fmt.Errorf("load catalog: %w", err)
		}
		if err := json.Unmarshal(prices, &it.Prices); err != nil {
			return nil, fmt.Errorf("load catalog: item %s prices: %w", it.ID, err)
		}
		it.Attributes = attrs
		it.SaleStart, it.SaleEnd = utcPtr(it.SaleStart), utcPtr(it.SaleEnd)
		snap.byID[it.ID] = it
		snap.sorted = append(snap.sorted, it)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("load catalog: %w", err)
	}
	sort.Slice(snap.sorted, func(i, j int) bool { return snap.sorted[i].ID < snap.sorted[j].ID })
	return snap, nil
}

// upsertItem writes it, replacing an existing template with the same id.
func upsertItem(ctx context.Context, tx pgx.Tx, it Item, onlyIfNew bool) (bool, error) {
	prices, err := json.Marshal(it.Prices)
	if err != nil {
		return false, fmt.Errorf("encode prices: %w", err)
	}
	conflict := `DO UPDATE SET name = excluded.name, category = excluded.category, prices = excluded.prices,
		stackable = excluded.stackable, max_stack = excluded.max_stack, per_player_limit = excluded.per_player_limit,
		tradable = excluded.tradable, sale_start = excluded.sale_start, sale_end = excluded.sale_end,
		attributes = excluded.attributes, active = excluded.active, updated_at = now()`
	if onlyIfNew {
		conflict = `DO NOTHING`
	}
	tag, err := tx.Exec(ctx, `
		INSERT INTO item_templates (id, name, category, prices, stackable, max_stack, per_player_limit, tradable, sale_start, sale_end, attributes, active)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
		ON CONFLICT (id) `+conflict,
		it.ID, it.Name, it.Category, string(prices), it.Stackable, it.MaxStack, it.PerPlayerLimit, it.Tradable,
		it.SaleStart, it.SaleEnd, string(it.Attributes), it.Active)
	if err != nil {
		return false, fmt.Errorf("write item %s: %w", it.ID, err)
	}
	return tag.RowsAffected() == 1, nil
}

// setStock sets the remaining global supply of an item; nil removes the limit.
func setStock(ctx context.Context, tx pgx.Tx, id string, remaining *int64) error {
	var err error
	if remaining == nil {
		_, err = tx.Exec(ctx, `DELETE FROM item_stock WHERE item_template_id = $1`, id)
	} else {
		_, err = tx.Exec(ctx, `INSERT INTO item_stock (item_template_id, remaining) VALUES ($1, $2)
			ON CONFLICT (item_template_id) DO UPDATE SET remaining = excluded.remaining`, id, *remaining)
	}
	if err != nil {
		return fmt.Errorf("set stock of %s: %w", id, err)
	}
	return nil
}
