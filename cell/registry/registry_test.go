package registry_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/atollgg/atoll/cell/registry"
	"github.com/atollgg/atoll/internal/consultest"
	"github.com/hashicorp/consul/api"
)

// waitTimeout bounds waiting for the agent to run the check: it runs one at
// registration and then every CheckInterval.
const waitTimeout = 30 * time.Second

func TestRegisterCheckDeregister(t *testing.T) {
	agent := consultest.Start(t)
	var ready atomic.Bool
	ready.Store(true)
	probe := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/readyz" || !ready.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
	defer probe.Close()

	reg, err := registry.New(registry.Config{
		ConsulAddr: agent.Addr, CellID: "eu-west-1a", Region: "eu-west",
		PublicURL: "https://cell-eu.example.test:8443", CheckURL: probe.URL + "/readyz",
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := reg.Register(ctx); err != nil {
		t.Fatal(err)
	}
	// Registering again (a restarted cell) replaces, not duplicates.
	if err := reg.Register(ctx); err != nil {
		t.Fatal(err)
	}

	entries := waitHealth(t, agent.Client, api.HealthPassing)
	if len(entries) != 1 {
		t.Fatalf("%d passing entries, want 1", len(entries))
	}
	svc := entries[0].Service
	if svc.ID != "atoll-cell-eu-west-1a" || svc.Service != registry.ServiceName ||
		len(svc.Tags) != 1 || svc.Tags[0] != "eu-west" ||
		svc.Meta[registry.MetaCellID] != "eu-west-1a" || svc.Meta[registry.MetaPublicURL] != "https://cell-eu.example.test:8443" ||
		svc.Address != "cell-eu.example.test" || svc.Port != 8443 {
		t.Fatalf("registered service %+v", svc)
	}

	if err := reg.Deregister(ctx); err != nil {
		t.Fatal(err)
	}
	services, err := agent.Client.Agent().Services()
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := services[registry.ServiceID("eu-west-1a")]; ok {
		t.Fatal("service still registered after Deregister")
	}
}

func TestCheckGoesCriticalWhenNotReady(t *testing.T) {
	agent := consultest.Start(t)
	probe := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer probe.Close()
	reg, err := registry.New(registry.Config{
		ConsulAddr: agent.Addr, CellID: "c1", Region: "r1",
		PublicURL: "http://127.0.0.1:9", CheckURL: probe.URL + "/readyz",
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := reg.Register(context.Background()); err != nil {
		t.Fatal(err)
	}
	waitHealth(t, agent.Client, api.HealthCritical)
}

func TestNewRejectsBadConfig(t *testing.T) {
	for _, cfg := range []registry.Config{
		{},
		{ConsulAddr: "127.0.0.1:8500", CellID: "c", Region: "r", PublicURL: "nope", CheckURL: "http://x/readyz"},
		{ConsulAddr: "127.0.0.1:8500", CellID: "c", Region: "", PublicURL: "http://x", CheckURL: "http://x/readyz"},
	} {
		if _, err := registry.New(cfg); err == nil {
			t.Errorf("New(%+v) accepted", cfg)
		}
	}
}

// waitHealth blocks on Consul's health endpoint (a blocking query, not a
// sleep) until the atoll-cell check reaches state.
func waitHealth(t *testing.T, c *api.Client, state string) []*api.ServiceEntry {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	var index uint64
	for time.Now().Before(deadline) {
		entries, meta, err := c.Health().Service(registry.ServiceName, "", false, &api.QueryOptions{WaitIndex: index, WaitTime: 5 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		index = meta.LastIndex
		if len(entries) > 0 && entries[0].Checks.AggregatedStatus() == state {
			return entries
		}
	}
	t.Fatalf("atoll-cell never reached %s", state)
	return nil
}
