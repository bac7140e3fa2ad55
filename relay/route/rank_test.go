package route

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/atollgg/atoll/contract"
	"github.com/atollgg/atoll/internal/ratelimit"
	"github.com/atollgg/atoll/internal/tokens"
	"github.com/atollgg/atoll/topology"
)

func exampleWorld(t testing.TB) *topology.World {
	t.Helper()
	w, err := topology.Load("../../topology/example")
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func healthy(cells ...string) Health {
	h := Health{Known: true, Cells: map[string]CellState{}}
	for _, c := range cells {
		h.Cells[c] = CellState{Healthy: true}
	}
	return h
}

func TestRank(t *testing.T) {
	w := exampleWorld(t)
	all := healthy("eu-west-1", "us-east-1", "ap-south-1")
	full := healthy("us-east-1", "ap-south-1")
	full.Cells["eu-west-1"] = CellState{Healthy: true, Load: 1}
	tests := []struct {
		name        string
		health      Health
		req         contract.RouteRequest
		wantRegions string // ranked regions, in order
		wantReason  string // in the first cell's reason
		wantSkipped string
	}{
		{"nearest first", all, contract.RouteRequest{LatenciesMs: map[string]int{"eu-west": 20, "us-east": 90, "ap-south": 180}},
			"eu-west,us-east,ap-south", "nearest healthy region eu-west: 20 ms", ""},
		{"no live health: topology is the intent", Health{}, contract.RouteRequest{LatenciesMs: map[string]int{"eu-west": 20, "us-east": 90}},
			"eu-west,us-east", "nearest healthy region eu-west", ""},
		{"loss outweighs distance", all, contract.RouteRequest{LatenciesMs: map[string]int{"eu-west": 20, "us-east": 50}, LossPct: map[string]float64{"eu-west": 5}},
			"us-east,eu-west", "nearest healthy region us-east", ""},
		{"heavy loss skipped", all, contract.RouteRequest{LatenciesMs: map[string]int{"eu-west": 20, "us-east": 50}, LossPct: map[string]float64{"eu-west": 50}},
			"us-east", "nearest healthy region us-east", "eu-west"},
		{"down region skipped, declared fallback first", healthy("us-east-1", "ap-south-1"),
			contract.RouteRequest{LatenciesMs: map[string]int{"eu-west": 20, "ap-south": 60, "us-east": 90}},
			"us-east,ap-south", "declared fallback of eu-west", "eu-west"},
		{"full cell skipped", full, contract.RouteRequest{LatenciesMs: map[string]int{"eu-west": 20, "ap-south": 60}},
			"ap-south", "nearer eu-west skipped (every cell is at capacity)", "eu-west"},
		{"unknown region skipped", all, contract.RouteRequest{LatenciesMs: map[string]int{"mars": 1, "ap-south": 60}},
			"ap-south", "nearest healthy region ap-south", "mars"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := Rank(w, tt.health, tt.req, "player-1")
			var regions, skipped []string
			for _, c := range resp.Cells {
				regions = append(regions, c.RegionID)
				if c.RelayURL == "" || c.APIURL == "" {
					t.Errorf("cell %+v lacks its URLs", c)
				}
			}
			for _, s := range resp.Skipped {
				skipped = append(skipped, s.RegionID)
			}
			if got := strings.Join(regions, ","); got != tt.wantRegions {
				t.Fatalf("ranked %s, want %s (%+v)", got, tt.wantRegions, resp)
			}
			if !strings.Contains(resp.Cells[0].Reason, tt.wantReason) {
				t.Errorf("reason %q, want %q", resp.Cells[0].Reason, tt.wantReason)
			}
			if got := strings.Join(skipped, ","); got != tt.wantSkipped {
				t.Errorf("skipped %s, want %s", got, tt.wantSkipped)
			}
		})
	}
}

func TestPickRelayIsStableAndWeighted(t *testing.T) {
	r := &topology.Region{Relays: []topology.Relay{{ID: "a", URL: "http://a", Weight: 1}, {ID: "b", URL: "http://b", Weight: 3}}}
	counts := map[string]int{}
	for i := range 4000 {
		p := "player-" + string(rune('a'+i%26)) + strings.Repeat("x", i/26)
		got := pickRelay(r, p)
		if again := pickRelay(r, p); again != got {
			t.Fatalf("player %s moved from %s to %s", p, got, again)
		}
		counts[got]++
	}
	// Weight 3 gets about three quarters; a wide band keeps this exact
	// arithmetic check free of flakiness (the hash is deterministic).
	if share := float64(counts["http://b"]) / 4000; share < 0.65 || share > 0.85 {
		t.Fatalf("weight-3 relay got %.2f of players", share)
	}
}

func TestRouteHandler(t *testing.T) {
	keys := tokens.NewKeyRing()
	iss, err := tokens.NewIssuer(tokens.IssuerConfig{Keys: keys, Issuer: "http://core.test", Audience: "atoll"})
	if err != nil {
		t.Fatal(err)
	}
	v, err := tokens.NewVerifier(tokens.VerifierConfig{Keys: keys, Issuer: "http://core.test", Audience: "atoll"})
	if err != nil {
		t.Fatal(err)
	}
	w := exampleWorld(t)
	svc, err := New(Config{World: func() *topology.World { return w }, Verifier: v})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	svc.Routes(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	good, _, err := iss.IssueAccess("player-1", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	expired, _, err := iss.IssueAccess("player-1", time.Now().Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		token    string
		body     string
		status   int
		wantBody string
	}{
		{"ranked", good, `{"latencies_ms":{"us-east":80,"eu-west":30}}`, 200, `"cell_id":"eu-west-1"`},
		{"no token", "", `{"latencies_ms":{"eu-west":30}}`, 401, `"unauthenticated"`},
		{"expired token", expired, `{"latencies_ms":{"eu-west":30}}`, 401, `"unauthenticated"`},
		{"forged token", good[:len(good)-4] + "AAAA", `{"latencies_ms":{"eu-west":30}}`, 401, `"unauthenticated"`},
		{"no latencies", good, `{}`, 400, "latencies_ms is required"},
		{"negative latency", good, `{"latencies_ms":{"eu-west":-1}}`, 400, "between 0 and"},
		{"loss of unmeasured region", good, `{"latencies_ms":{"eu-west":1},"loss_pct":{"us-east":3}}`, 400, "loss_pct names region"},
		{"unknown field", good, `{"latencies_ms":{"eu-west":1},"x":1}`, 400, "invalid_argument"},
		{"nothing routable", good, `{"latencies_ms":{"mars":1}}`, 503, "not a region of the topology"},
		{"too large", good, `{"latencies_ms":{"` + strings.Repeat("a", MaxBodyBytes) + `":1}}`, 413, "payload_too_large"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodPost, srv.URL+PathRoute, bytes.NewBufferString(tt.body))
			req.Header.Set("Content-Type", "application/json")
			if tt.token != "" {
				req.Header.Set("Authorization", "Bearer "+tt.token)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var buf bytes.Buffer
			_, _ = buf.ReadFrom(resp.Body)
			if resp.StatusCode != tt.status || !strings.Contains(buf.String(), tt.wantBody) {
				t.Fatalf("%d %s, want %d with %q", resp.StatusCode, buf.String(), tt.status, tt.wantBody)
			}
		})
	}

	resp, err := http.Get(srv.URL + PathTopology)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var top contract.Topology
	if err := json.NewDecoder(resp.Body).Decode(&top); err != nil || len(top.Regions) != 3 || top.Regions[0].Relays[0].Beacon == "" {
		t.Fatalf("topology %+v, %v", top, err)
	}
}

// BenchmarkRank measures route decisions per second (ranking only; the
// handler adds token verification, ~30 µs, and JSON).
func BenchmarkRank(b *testing.B) {
	w := exampleWorld(b)
	h := healthy("eu-west-1", "us-east-1", "ap-south-1")
	req := contract.RouteRequest{LatenciesMs: map[string]int{"eu-west": 20, "us-east": 90, "ap-south": 180}, LossPct: map[string]float64{"us-east": 1}}
	b.ReportAllocs()
	for b.Loop() {
		Rank(w, h, req, "player-1")
	}
}

// BenchmarkRouteHandler measures whole route decisions per second: access
// token verification, JSON in and out, and ranking (no network).
//
//	go test -run '^$' -bench BenchmarkRouteHandler -benchtime 20000x ./relay/route/
func BenchmarkRouteHandler(b *testing.B) {
	keys := tokens.NewKeyRing()
	iss, _ := tokens.NewIssuer(tokens.IssuerConfig{Keys: keys, Issuer: "http://core.test", Audience: "atoll"})
	v, _ := tokens.NewVerifier(tokens.VerifierConfig{Keys: keys, Issuer: "http://core.test", Audience: "atoll"})
	w := exampleWorld(b)
	svc, err := New(Config{World: func() *topology.World { return w }, Verifier: v, Rate: ratelimit.Rate{Events: 1 << 20, Per: time.Second, Burst: 1 << 20}})
	if err != nil {
		b.Fatal(err)
	}
	h := svc.RouteHandler()
	tok, _, _ := iss.IssueAccess("player-1", time.Now())
	body := []byte(`{"latencies_ms":{"eu-west":20,"us-east":90,"ap-south":180},"loss_pct":{"us-east":1}}`)
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest(http.MethodPost, PathRoute, bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("%d %s", rec.Code, rec.Body)
		}
	}
}
