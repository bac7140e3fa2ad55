package economy

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	"github.com/atollgg/atoll/internal/httpx"
)

// catalogMaxAge lets clients and CDNs cache the catalog as long as this
// process may itself serve a stale copy.
const catalogMaxAge = "max-age=30"

// CatalogItem is an item as the store shows it.
type CatalogItem struct {
	ID             string           `json:"id"`
	Name           string           `json:"name"`
	Category       string           `json:"category"`
	Prices         map[string]int64 `json:"prices"`
	Stackable      bool             `json:"stackable"`
	MaxStack       int64            `json:"max_stack"`
	PerPlayerLimit *int64           `json:"per_player_limit,omitempty"`
	Tradable       bool             `json:"tradable"`
	SaleStart      *time.Time       `json:"sale_start,omitempty"`
	SaleEnd        *time.Time       `json:"sale_end,omitempty"`
	// OnSale is whether the item can be bought right now.
	OnSale bool `json:"on_sale"`
	// Limited items have a global supply that can sell out.
	Limited    bool            `json:"limited"`
	Attributes json.RawMessage `json:"attributes,omitempty"`
}

// CatalogResponse is the body of GET /store/catalog.
type CatalogResponse struct {
	Items []CatalogItem `json:"items"`
	// TopUps are the real-money offers of premium currency.
	TopUps []Offer `json:"topups"`
}

// Catalog returns the active items from the in-process cache.
func (s *Service) Catalog(ctx context.Context) CatalogResponse {
	snap := s.catalog.get(ctx)
	now := s.now()
	out := CatalogResponse{Items: make([]CatalogItem, 0, len(snap.sorted)), TopUps: s.offerList}
	for _, it := range snap.sorted {
		if !it.Active {
			continue
		}
		ci := CatalogItem{ID: it.ID, Name: it.Name, Category: it.Category, Prices: it.Prices, Stackable: it.Stackable, MaxStack: it.MaxStack,
			PerPlayerLimit: it.PerPlayerLimit, Tradable: it.Tradable, SaleStart: it.SaleStart, SaleEnd: it.SaleEnd,
			OnSale: it.onSale(now), Limited: it.Limited}
		if string(it.Attributes) != "{}" {
			ci.Attributes = it.Attributes
		}
		out.Items = append(out.Items, ci)
	}
	return out
}

func (s *Service) getCatalog(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Cache-Control", catalogMaxAge)
	httpx.WriteJSON(w, http.StatusOK, s.Catalog(r.Context()))
	return nil
}
