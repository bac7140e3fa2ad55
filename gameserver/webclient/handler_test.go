package webclient_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/atollgg/atoll/gameserver/webclient"
)

func TestHandler(t *testing.T) {
	h, err := webclient.Handler(webclient.Config{GlobalURL: "http://core.example:8080/", Mode: "duel"})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.StripPrefix("/play", h))
	defer srv.Close()
	get := func(method, path string) (*http.Response, string) {
		req, _ := http.NewRequest(method, srv.URL+path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	tests := []struct {
		method, path string
		status       int
		contentType  string
		contains     string
	}{
		{"GET", "/play/", 200, "text/html", `<canvas id="view"`},
		{"GET", "/play/app.js", 200, "javascript", "new Predictor("},
		{"GET", "/play/config.json", 200, "application/json", `"global_url":"http://core.example:8080"`},
		{"GET", "/play/nope.txt", 404, "", ""},
		{"GET", "/play/static/app.js", 404, "", ""},
		{"POST", "/play/", 405, "", ""},
	}
	for _, tc := range tests {
		resp, body := get(tc.method, tc.path)
		if resp.StatusCode != tc.status || !strings.Contains(resp.Header.Get("Content-Type"), tc.contentType) || !strings.Contains(body, tc.contains) {
			t.Errorf("%s %s: %d %q, want %d %q containing %q", tc.method, tc.path, resp.StatusCode, resp.Header.Get("Content-Type"), tc.status, tc.contentType, tc.contains)
		}
		if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "connect-src 'self' http://core.example:8080 ws: wss:") {
			t.Errorf("%s %s: CSP %q does not allow the core and game servers", tc.method, tc.path, csp)
		}
	}
	_, body := get("GET", "/play/config.json")
	var cfg map[string]string
	if err := json.Unmarshal([]byte(body), &cfg); err != nil || cfg["mode"] != "duel" {
		t.Errorf("config.json %s: %v", body, err)
	}
	for _, bad := range []string{"", "core:8080", "ftp://core", "http://"} {
		if _, err := webclient.Handler(webclient.Config{GlobalURL: bad}); err == nil {
			t.Errorf("global URL %q accepted", bad)
		}
	}
}
