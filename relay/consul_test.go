package relay

import (
	"bytes"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/atollgg/atoll/contract"
	"github.com/atollgg/atoll/internal/consultest"
	"github.com/atollgg/atoll/internal/tokens"
	"github.com/atollgg/atoll/relay/discovery"
	"github.com/hashicorp/consul/api"
)

// consulWait bounds waiting for Consul to report a change, which a
// blocking query returns at once.
const consulWait = 30 * time.Second

// TestRelayWithConsul: the relay registers as atoll-relay and stops routing
// to a cell as soon as its Consul check fails.
func TestRelayWithConsul(t *testing.T) {
	agent := consultest.Start(t)
	f := newFixtureWith(t, ForwardConfig{}, func(c *Config) { c.ConsulAddr = agent.Addr })
	client, err := api.NewClient(&api.Config{Address: agent.Addr})
	if err != nil {
		t.Fatal(err)
	}
	svcs, _, err := client.Catalog().Service(discovery.RelayService, "eu", nil)
	if err != nil || len(svcs) != 1 || svcs[0].ServiceMeta[discovery.MetaRelayID] != "eu-r1" {
		t.Fatalf("atoll-relay in the catalog: %+v, %v", svcs, err)
	}
	for _, id := range []string{"eu-1", "us-1"} {
		reg := &api.AgentServiceRegistration{
			ID: "atoll-cell-" + id, Name: discovery.CellService, Address: "127.0.0.1", Port: 1,
			Meta: map[string]string{discovery.MetaCellID: id}, Check: &api.AgentServiceCheck{CheckID: id + "-ttl", TTL: "1h"},
		}
		if err := client.Agent().ServiceRegister(reg); err != nil {
			t.Fatal(err)
		}
		if err := client.Agent().UpdateTTL(id+"-ttl", "", api.HealthPassing); err != nil {
			t.Fatal(err)
		}
	}
	iss, err := tokens.NewIssuer(tokens.IssuerConfig{Keys: f.coreKeys, Issuer: f.coreURL, Audience: Audience})
	if err != nil {
		t.Fatal(err)
	}
	access, _, err := iss.IssueAccess("player-1", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	first := func() string {
		body, _ := json.Marshal(contract.RouteRequest{LatenciesMs: map[string]int{"eu": 10, "us": 80}})
		req, _ := http.NewRequest(http.MethodPost, f.relay.URL()+"/route", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+access)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var rr contract.RouteResponse
		if resp.StatusCode != http.StatusOK || json.NewDecoder(resp.Body).Decode(&rr) != nil || len(rr.Cells) == 0 {
			return ""
		}
		return rr.Cells[0].CellID
	}
	waitFirst := func(want string) {
		t.Helper()
		deadline := time.Now().Add(consulWait)
		for first() != want {
			if time.Now().After(deadline) {
				t.Fatalf("route never put %s first", want)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	waitFirst("eu-1")
	if err := client.Agent().UpdateTTL("eu-1-ttl", "", api.HealthCritical); err != nil {
		t.Fatal(err)
	}
	waitFirst("us-1")
	if err := client.Agent().UpdateTTL("eu-1-ttl", "", api.HealthPassing); err != nil {
		t.Fatal(err)
	}
	waitFirst("eu-1")
}
