package client

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/atollgg/atoll/contract"
)

// Topology reads the regions to probe from GET /topology of the global core
// (or of any relay).
func (a *API) Topology(ctx context.Context) (contract.Topology, error) {
	var t contract.Topology
	if err := a.call(ctx, http.MethodGet, a.GlobalURL+"/topology", "", nil, &t); err != nil {
		return t, fmt.Errorf("topology: %w", err)
	}
	return t, nil
}

// Route asks routeURL (the core or a relay) to rank cells for the player
// from their measurements, best first.
func (a *API) Route(ctx context.Context, routeURL, access string, ms map[string]Measurement) (contract.RouteResponse, error) {
	var resp contract.RouteResponse
	req := contract.RouteRequest{LatenciesMs: LatenciesMs(ms), LossPct: LossPct(ms)}
	if err := a.call(ctx, http.MethodPost, strings.TrimSuffix(routeURL, "/")+"/route", access, req, &resp); err != nil {
		return resp, fmt.Errorf("route: %w", err)
	}
	return resp, nil
}
