package cell_test

import (
	"context"
	"testing"
	"time"

	"github.com/atollgg/atoll/cell/registry"
	"github.com/atollgg/atoll/global/globaltest"
	"github.com/atollgg/atoll/internal/consultest"
	"github.com/hashicorp/consul/api"
)

// TestConsulRegistration: a cell with a Consul address registers as
// atoll-cell (region tag, cell id and public URL meta) with a passing
// /readyz check, and deregisters on shutdown.
func TestConsulRegistration(t *testing.T) {
	agent := consultest.Start(t)
	core := globaltest.Start(t)
	a := core.Guest(t)
	cfg := cellConfig(t, core, issuerOf(t, a.Access), gameServer(t))
	cfg.ConsulAddr = agent.Addr
	cfg.PublicURL = "https://eu-test.cells.example"
	c := startCell(t, cfg)

	deadline := time.Now().Add(waitTimeout)
	var index uint64
	for {
		entries, meta, err := agent.Client.Health().Service(registry.ServiceName, testRegion, true, &api.QueryOptions{WaitIndex: index, WaitTime: 5 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		index = meta.LastIndex
		if len(entries) == 1 {
			svc := entries[0].Service
			if svc.Meta[registry.MetaCellID] != globaltest.CellID || svc.Meta[registry.MetaPublicURL] != cfg.PublicURL {
				t.Fatalf("registered meta %v", svc.Meta)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("cell never passing in Consul")
		}
	}

	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	if err := c.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	services, err := agent.Client.Agent().Services()
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := services[registry.ServiceID(globaltest.CellID)]; ok {
		t.Fatal("cell still registered after shutdown")
	}
}
