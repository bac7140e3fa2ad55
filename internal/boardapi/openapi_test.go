package boardapi

import (
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/atollgg/atoll/internal/obs"
	"github.com/atollgg/atoll/internal/rank"
	"github.com/atollgg/atoll/internal/tokens"
	"gopkg.in/yaml.v3"
)

// TestOpenAPIMatchesRoutes checks openapi.yaml against the routes Routes
// registers, and that every $ref in it resolves.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	raw, err := os.ReadFile("openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		OpenAPI    string                               `yaml:"openapi"`
		Paths      map[string]map[string]map[string]any `yaml:"paths"`
		Components map[string]map[string]any            `yaml:"components"`
	}
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("openapi.yaml: %v", err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Fatalf("openapi version %q", doc.OpenAPI)
	}
	v, err := tokens.NewVerifier(tokens.VerifierConfig{Keys: tokens.StaticKeys{}, Issuer: "i", Audience: "a"})
	if err != nil {
		t.Fatal(err)
	}
	a, err := New(Config{Scope: "global", Boards: rank.NewBoards(), Verifier: v, Log: obs.Discard()})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	a.Routes(mux, func(h http.Handler) http.Handler { return h })
	served := map[string]bool{"GET /leaderboards/{name}": true, "GET /leaderboards/{name}/players/{id}": true}
	documented := map[string]bool{}
	for path, ops := range doc.Paths {
		for method := range ops {
			pattern := strings.ToUpper(method) + " " + path
			documented[pattern] = true
			// The documented path, with its parameters filled in, reaches
			// the route of the same pattern.
			url := strings.NewReplacer("{name}", "board", "{id}", "00000000-0000-4000-8000-000000000000").Replace(path)
			if _, got := mux.Handler(httptest.NewRequest(strings.ToUpper(method), url, nil)); got != pattern {
				t.Errorf("%s is served by %q", pattern, got)
			}
		}
	}
	for p := range served {
		if !documented[p] {
			t.Errorf("route %s is not documented", p)
		}
	}
	for _, ref := range refs(raw) {
		parts := strings.Split(strings.TrimPrefix(ref, "#/components/"), "/")
		if len(parts) != 2 || doc.Components[parts[0]][parts[1]] == nil {
			t.Errorf("$ref %s does not resolve", ref)
		}
	}
}

func refs(raw []byte) []string {
	var out []string
	for _, part := range strings.Split(string(raw), `$ref: "`)[1:] {
		out = append(out, part[:strings.Index(part, `"`)])
	}
	return out
}
