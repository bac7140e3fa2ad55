package leaderboard_test

import (
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// TestOpenAPIMatchesRoutes: every path of openapi.yaml reaches the route of
// the same pattern on the real core's mux.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	raw, err := os.ReadFile("openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Paths map[string]map[string]any `yaml:"paths"`
	}
	if err := yaml.Unmarshal(raw, &doc); err != nil || len(doc.Paths) == 0 {
		t.Fatalf("openapi.yaml: %v", err)
	}
	core := startCore(t)
	for path, ops := range doc.Paths {
		for method := range ops {
			url := strings.ReplaceAll(path, "{name}", "kills_daily")
			// Unauthenticated: the route answers 401, not the fallback's 404/405.
			rec := httptest.NewRecorder()
			core.Handler().ServeHTTP(rec, httptest.NewRequest(strings.ToUpper(method), url, strings.NewReader("{}")))
			if rec.Code != http.StatusUnauthorized {
				t.Errorf("%s %s: %d, want the route's 401", method, path, rec.Code)
			}
		}
	}
}
