package economy

import (
	"net/http"

	"github.com/atollgg/atoll/internal/authn"
	"github.com/atollgg/atoll/internal/httpx"
)

// Mux is where routes are registered; *http.ServeMux is one.
type Mux interface {
	Handle(pattern string, handler http.Handler)
}

// Routes registers the economy's endpoints, described in openapi.yaml:
// the public catalog and levels, the players' store, wallet and inventory,
// the cells' grant API and the operators' admin API.
func (s *Service) Routes(mux Mux, wrap func(http.Handler) http.Handler) {
	h := func(f httpx.HandlerFunc) http.Handler { return wrap(httpx.Handle(s.log, f)) }
	player := authn.Player(s.cfg.Verifier)
	results := authn.ServiceScoped(s.cfg.CellTokens, s.cfg.CellScopes, authn.ScopeResultsApply)
	admin := authn.Admin(s.cfg.AdminToken)

	mux.Handle("GET /store/catalog", h(s.getCatalog))
	mux.Handle("GET /progression/levels", h(s.getLevels))

	mux.Handle("POST /store/purchase", h(player(s.purchase)))
	mux.Handle("GET /wallet", h(player(s.getWallet)))
	mux.Handle("GET /wallet/transactions", h(player(s.listTransactions)))
	mux.Handle("GET /inventory/{playerId}", h(player(s.getInventory)))
	mux.Handle("POST /inventory/{itemId}/equip", h(player(s.equipHandler(true))))
	mux.Handle("POST /inventory/{itemId}/unequip", h(player(s.equipHandler(false))))
	mux.Handle("POST /inventory/{itemId}/consume", h(player(s.consume)))
	mux.Handle("POST /inventory/{itemId}/visibility", h(player(s.visibility)))

	mux.Handle("POST /internal/v1/economy/grants", h(results(s.serviceGrant)))

	mux.Handle("POST /admin/players/{playerId}/grant", h(admin(s.adminAudited("grant", s.adminGrant))))
	mux.Handle("GET /admin/players/{playerId}/economy", h(admin(s.adminAudited("player.lookup", s.adminPlayer))))
	mux.Handle("GET /admin/catalog", h(admin(s.adminAudited("catalog.list", s.adminCatalog))))
	mux.Handle("PUT /admin/catalog/items/{itemId}", h(admin(s.adminAudited("catalog.put", s.adminPutItem))))
	mux.Handle("DELETE /admin/catalog/items/{itemId}", h(admin(s.adminAudited("catalog.retire", s.adminDeleteItem))))
	mux.Handle("PUT /admin/catalog/items/{itemId}/stock", h(admin(s.adminAudited("catalog.stock", s.adminSetStock))))
}
