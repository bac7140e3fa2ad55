package global_test

import (
	"net/http"
	"testing"

	"github.com/atollgg/atoll/contract"
	"github.com/atollgg/atoll/global"
	"github.com/atollgg/atoll/global/globaltest"
	"github.com/atollgg/atoll/internal/dbtest"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

// TestCoreServesTopologyAndRoute: with a topology folder the core serves the
// public world and ranks cells for a logged-in player.
func TestCoreServesTopologyAndRoute(t *testing.T) {
	core := globaltest.Start(t, func(c *global.Config) { c.TopologyDir = "../topology/example" })
	var top contract.Topology
	r := core.Do(t, http.MethodGet, "/topology", "", nil)
	globaltest.MustStatus(t, r, http.StatusOK)
	r.Decode(t, &top)
	if len(top.Regions) != 3 || top.Regions[0].Relays[0].PingURL == "" {
		t.Fatalf("topology %+v", top)
	}
	p := core.Guest(t)
	req := contract.RouteRequest{LatenciesMs: map[string]int{"eu-west": 80, "us-east": 30, "ap-south": 200}}
	if r := core.Do(t, http.MethodPost, "/route", "", req); r.Status != http.StatusUnauthorized {
		t.Fatalf("route without a token: %d", r.Status)
	}
	r = core.Do(t, http.MethodPost, "/route", p.Access, req)
	globaltest.MustStatus(t, r, http.StatusOK)
	var resp contract.RouteResponse
	r.Decode(t, &resp)
	if len(resp.Cells) != 3 || resp.Cells[0].CellID != "us-east-1" || resp.Cells[0].Reason == "" {
		t.Fatalf("route %+v", resp)
	}
}
