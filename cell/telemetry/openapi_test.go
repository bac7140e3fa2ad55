package telemetry

import (
	"net/http"
	"os"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// TestOpenAPIMatchesRoutes checks openapi.yaml against the route the
// ingest registers and the limits it enforces.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	raw, err := os.ReadFile("openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		OpenAPI string                               `yaml:"openapi"`
		Paths   map[string]map[string]map[string]any `yaml:"paths"`
	}
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("openapi.yaml: %v", err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Fatalf("openapi version %q", doc.OpenAPI)
	}
	documented := map[string]bool{}
	for path, ops := range doc.Paths {
		for method := range ops {
			documented[strings.ToUpper(method)+" "+path] = true
		}
	}
	// Every documented operation is served: without a credential it is
	// refused as unauthenticated, never 404 or 405.
	g := newRig(t, nil)
	for op := range documented {
		method, path, _ := strings.Cut(op, " ")
		req, err := http.NewRequest(method, g.srv.URL+path, strings.NewReader(`{}`))
		if err != nil {
			t.Fatal(err)
		}
		resp, err := g.srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("%s: %d, want 401 from the served route", op, resp.StatusCode)
		}
	}
	if !documented[http.MethodPost+" "+Path] {
		t.Errorf("POST %s is not documented", Path)
	}
	text := string(raw)
	for _, want := range []string{"maxItems: 1000", "100 events", "128 KiB", "1 KiB per", "4 KiB per", "1 MiB per", "2 minutes", "24 hours"} {
		if !strings.Contains(text, want) {
			t.Errorf("openapi.yaml does not state %q", want)
		}
	}
	if DefaultClientLimits().MaxEvents != 100 || DefaultServerLimits().MaxEvents != 1000 || DefaultClientLimits().MaxBatchBytes != 128<<10 ||
		DefaultServerLimits().MaxBatchBytes != 1<<20 || DefaultClientLimits().MaxPayloadBytes != 1<<10 || DefaultServerLimits().MaxPayloadBytes != 4<<10 ||
		MaxClockSkew.Minutes() != 2 || MaxEventAge.Hours() != 24 {
		t.Error("the limits changed: update openapi.yaml and this test")
	}
}
