package consultest_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/consul/api"

	"github.com/atollgg/atoll/internal/consultest"
)

// waitTimeout bounds each wait for Consul to reflect a change. Checks run
// every checkInterval, so a state change shows within a few seconds even on
// a loaded machine; past this the agent is broken, not slow.
const waitTimeout = 30 * time.Second

// checkInterval is Consul's minimum check interval: anything shorter is
// raised to it, so asking for it keeps the test as fast as Consul allows.
const checkInterval = time.Second

func TestMain(m *testing.M) { os.Exit(consultest.Main(m)) }

// TestHTTPCheckFollowsReadiness registers a service whose HTTP check hits a
// real server, and follows it through critical, passing and deregistered.
func TestHTTPCheckFollowsReadiness(t *testing.T) {
	agent := consultest.Start(t)

	var ready atomic.Bool
	var hits atomic.Int64
	mux := http.NewServeMux()
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		if !ready.Load() {
			http.Error(w, "warming up", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ok")
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)

	const name, id = "atoll-readyz", "atoll-readyz-1"
	err := agent.Client.Agent().ServiceRegister(&api.AgentServiceRegistration{
		ID:   id,
		Name: name,
		Port: srv.Listener.Addr().(*net.TCPAddr).Port,
		Check: &api.AgentServiceCheck{
			HTTP:     srv.URL + "/readyz",
			Interval: checkInterval.String(),
			Timeout:  checkInterval.String(),
			// Start critical so passing can only come from a real probe.
			Status: api.HealthCritical,
		},
	})
	if err != nil {
		t.Fatalf("register service: %v", err)
	}

	checkStatus := func(entries []*api.ServiceEntry) string {
		if len(entries) != 1 || entries[0].Service.ID != id {
			return fmt.Sprintf("%d instances", len(entries))
		}
		for _, c := range entries[0].Checks {
			if c.ServiceID == id {
				return c.Status + ": " + c.Output
			}
		}
		return "no service check"
	}

	// While /readyz answers 503 the check must turn critical with output
	// from a real probe, not just keep its initial status.
	waitHealth(t, agent.Client, name, false, func(entries []*api.ServiceEntry) bool {
		s := checkStatus(entries)
		return strings.HasPrefix(s, api.HealthCritical) && strings.Contains(s, "503")
	})
	if hits.Load() == 0 {
		t.Fatal("check reported a 503 but /readyz was never called")
	}
	if passing := healthNow(t, agent.Client, name, true); len(passing) != 0 {
		t.Fatalf("passing-only query returned %d instances while /readyz is 503", len(passing))
	}

	ready.Store(true)
	got := waitHealth(t, agent.Client, name, true, func(entries []*api.ServiceEntry) bool {
		return len(entries) == 1
	})
	if s := checkStatus(got); !strings.HasPrefix(s, api.HealthPassing) {
		t.Fatalf("check = %q, want passing", s)
	}
	if got[0].Service.Port != srv.Listener.Addr().(*net.TCPAddr).Port {
		t.Errorf("service port = %d, want %d", got[0].Service.Port, srv.Listener.Addr().(*net.TCPAddr).Port)
	}

	if err := agent.Client.Agent().ServiceDeregister(id); err != nil {
		t.Fatalf("deregister service: %v", err)
	}
	local, err := agent.Client.Agent().Services()
	if err != nil {
		t.Fatalf("list agent services: %v", err)
	}
	if _, ok := local[id]; ok {
		t.Fatalf("agent still lists %s after deregistration", id)
	}
	waitHealth(t, agent.Client, name, false, func(entries []*api.ServiceEntry) bool {
		return len(entries) == 0
	})
	checks, _, err := agent.Client.Health().Checks(name, nil)
	if err != nil {
		t.Fatalf("health checks: %v", err)
	}
	if len(checks) != 0 {
		t.Fatalf("catalog still has %d checks for %s after deregistration", len(checks), name)
	}
}

// TestSharedAgent checks that Shared hands every caller the same live agent,
// distinct from the per-test ones.
func TestSharedAgent(t *testing.T) {
	a := consultest.Shared(t)
	b := consultest.Shared(t)
	if a != b {
		t.Fatalf("Shared returned two agents: %s and %s", a.Addr, b.Addr)
	}
	own := consultest.Start(t)
	if own.Addr == a.Addr {
		t.Fatalf("Start reused the shared agent's address %s", a.Addr)
	}

	const key = "atoll/consultest/shared"
	if _, err := a.Client.KV().Put(&api.KVPair{Key: key, Value: []byte("v1")}, nil); err != nil {
		t.Fatalf("kv put: %v", err)
	}
	pair, _, err := b.Client.KV().Get(key, nil)
	if err != nil {
		t.Fatalf("kv get: %v", err)
	}
	if pair == nil || string(pair.Value) != "v1" {
		t.Fatalf("kv get %s = %+v, want v1", key, pair)
	}
	if pair, _, err := own.Client.KV().Get(key, nil); err != nil || pair != nil {
		t.Fatalf("own agent kv get %s = %+v, %v; want nothing, since it is a separate agent", key, pair, err)
	}
}

// waitHealth follows the service's health with blocking queries until done
// accepts the entries, and returns them; it fails the test after
// waitTimeout.
func waitHealth(t *testing.T, c *api.Client, service string, passingOnly bool, done func([]*api.ServiceEntry) bool) []*api.ServiceEntry {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	var index uint64
	var last []*api.ServiceEntry
	for {
		q := (&api.QueryOptions{WaitIndex: index, WaitTime: waitTimeout}).WithContext(ctx)
		entries, meta, err := c.Health().Service(service, "", passingOnly, q)
		if err != nil {
			if ctx.Err() != nil {
				t.Fatalf("health of %s (passingOnly=%v) not as wanted after %s; last: %s", service, passingOnly, waitTimeout, describe(last))
			}
			t.Fatalf("health of %s: %v", service, err)
		}
		last = entries
		if done(entries) {
			return entries
		}
		// Blocking queries may return early with the same index; an index
		// that goes backwards means the agent restarted, so start over.
		if meta.LastIndex < index {
			index = 0
		} else {
			index = meta.LastIndex
		}
	}
}

func healthNow(t *testing.T, c *api.Client, service string, passingOnly bool) []*api.ServiceEntry {
	t.Helper()
	entries, _, err := c.Health().Service(service, "", passingOnly, nil)
	if err != nil {
		t.Fatalf("health of %s: %v", service, err)
	}
	return entries
}

func describe(entries []*api.ServiceEntry) string {
	if len(entries) == 0 {
		return "no instances"
	}
	var b strings.Builder
	for _, e := range entries {
		fmt.Fprintf(&b, "[%s:", e.Service.ID)
		for _, c := range e.Checks {
			fmt.Fprintf(&b, " %s=%s %q", c.CheckID, c.Status, c.Output)
		}
		b.WriteString("]")
	}
	return b.String()
}
