package discovery

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/atollgg/atoll/internal/consultest"
	"github.com/atollgg/atoll/relay/route"
	"github.com/hashicorp/consul/api"
)

// changeWait bounds waiting for a blocking query to return a change, which
// Consul does at once; only a stalled machine comes near it.
const changeWait = 30 * time.Second

func TestWatcherFollowsCellHealth(t *testing.T) {
	agent := consultest.Start(t)
	client, err := api.NewClient(&api.Config{Address: agent.Addr})
	if err != nil {
		t.Fatal(err)
	}
	views := make(chan route.Health, 64)
	w, err := NewWatcher(WatchConfig{ConsulAddr: agent.Addr, OnChange: func(h route.Health) { views <- h }})
	if err != nil {
		t.Fatal(err)
	}
	if w.Health().Known {
		t.Fatal("view known before any answer")
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); w.Run(ctx) }()
	t.Cleanup(func() { cancel(); wg.Wait() })

	// A cell as cell/registry registers it, with a TTL check the test
	// drives instead of an HTTP probe.
	reg := &api.AgentServiceRegistration{
		ID: "atoll-cell-eu-1", Name: CellService, Tags: []string{"eu"}, Address: "127.0.0.1", Port: 1,
		Meta:  map[string]string{MetaCellID: "eu-1", MetaLoad: "0.25"},
		Check: &api.AgentServiceCheck{CheckID: "eu-1-ttl", TTL: "1h"},
	}
	if err := client.Agent().ServiceRegister(reg); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		name string
		do   func() error
		want func(route.Health) bool
	}{
		{"passing", func() error { return client.Agent().UpdateTTL("eu-1-ttl", "", api.HealthPassing) },
			func(h route.Health) bool { return h.Known && h.Cells["eu-1"].Healthy && h.Cells["eu-1"].Load == 0.25 }},
		{"failing", func() error { return client.Agent().UpdateTTL("eu-1-ttl", "", api.HealthCritical) },
			func(h route.Health) bool { st, ok := h.Cells["eu-1"]; return h.Known && ok && !st.Healthy }},
		{"recovered", func() error { return client.Agent().UpdateTTL("eu-1-ttl", "", api.HealthPassing) },
			func(h route.Health) bool { return h.Cells["eu-1"].Healthy }},
		{"deregistered", func() error { return client.Agent().ServiceDeregister("atoll-cell-eu-1") },
			func(h route.Health) bool { _, ok := h.Cells["eu-1"]; return h.Known && !ok }},
	}
	for _, s := range steps {
		if err := s.do(); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		deadline := time.After(changeWait)
	wait:
		for {
			select {
			case h := <-views:
				if s.want(h) {
					if !s.want(w.Health()) {
						t.Fatalf("%s: Health() = %+v, behind OnChange", s.name, w.Health())
					}
					break wait
				}
			case <-deadline:
				t.Fatalf("%s: no matching view (current %+v)", s.name, w.Health())
			}
		}
	}
}

func TestWatcherUnreachableConsul(t *testing.T) {
	// A listener that refuses every request stands in for an agent that
	// is down: the view stays unknown, so routing uses the topology.
	dead := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusInternalServerError)
	}))
	t.Cleanup(dead.Close)
	w, err := NewWatcher(WatchConfig{ConsulAddr: dead.Listener.Addr().String()})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*retryDelay)
	defer cancel()
	w.Run(ctx)
	if w.Health().Known {
		t.Fatal("view known without an answer")
	}
}

func TestRegisterRelay(t *testing.T) {
	agent := consultest.Start(t)
	ready := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {}))
	t.Cleanup(ready.Close)
	r, err := NewRegistration(RegistrationConfig{
		ConsulAddr: agent.Addr, RelayID: "eu-r1", Region: "eu", PublicURL: "https://relay.test:8443",
		Beacon: "203.0.113.1:7400", CheckURL: ready.URL + "/readyz",
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := r.Register(ctx); err != nil {
		t.Fatal(err)
	}
	client, _ := api.NewClient(&api.Config{Address: agent.Addr})
	svcs, _, err := client.Catalog().Service(RelayService, "eu", nil)
	if err != nil || len(svcs) != 1 || svcs[0].ServiceMeta[MetaBeacon] != "203.0.113.1:7400" || svcs[0].ServicePort != 8443 {
		t.Fatalf("catalog %+v, %v", svcs, err)
	}
	if err := r.Deregister(ctx); err != nil {
		t.Fatal(err)
	}
	if svcs, _, err := client.Catalog().Service(RelayService, "", nil); err != nil || len(svcs) != 0 {
		t.Fatalf("after deregister: %+v, %v", svcs, err)
	}
}
