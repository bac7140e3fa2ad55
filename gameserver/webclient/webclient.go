// Package webclient owns Atoll's browser client: one page (HTML, a canvas and plain JavaScript, embedded in the binary) that logs in as a guest, joins matchmaking and plays the arena with client-side prediction; the cell serves it.
//
// The page speaks netcode's JSON debug mode to the game server: porting the
// binary delta decoder to JavaScript buys bandwidth a browser on a cell's
// network does not need, while the JSON mode keeps the page small and
// readable. Snapshots are then always full (about four times the binary
// size). Prediction ports arena.Movement exactly, so it agrees with the
// server to the quantization.
package webclient

import (
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"net/url"
	"strings"
)

//go:embed static
var static embed.FS

// Config configures the page.
type Config struct {
	// GlobalURL is the global core's public base URL: the page logs in
	// there, cross-origin (the core must list the cell's origin in its
	// CORSOrigins). Required.
	GlobalURL string
	// Mode is the game mode the page queues for unless its URL says
	// ?mode=...; empty means the first mode the cell offers.
	Mode string
}

// pageConfig is config.json, what the page reads at start.
type pageConfig struct {
	GlobalURL string `json:"global_url"`
	Mode      string `json:"mode,omitempty"`
}

// Handler serves the page at its root: index.html, app.js and
// config.json. Mount it under a prefix with http.StripPrefix, e.g. the
// cell's /play/.
func Handler(cfg Config) (http.Handler, error) {
	u, err := url.Parse(cfg.GlobalURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("web client: global URL %q: want an absolute http(s) URL", cfg.GlobalURL)
	}
	global := strings.TrimRight(cfg.GlobalURL, "/")
	conf, err := json.Marshal(pageConfig{GlobalURL: global, Mode: cfg.Mode})
	if err != nil {
		return nil, fmt.Errorf("web client: %w", err)
	}
	files, err := fs.Sub(static, "static")
	if err != nil {
		return nil, errors.New("web client: embedded files missing")
	}
	// The page talks to its own cell, the global core and game servers on
	// any host (ws:), and runs only its own script.
	csp := "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; " +
		"connect-src 'self' " + u.Scheme + "://" + u.Host + " ws: wss:; frame-ancestors 'none'"
	fileServer := http.FileServerFS(files)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", csp)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		// The page is tiny and changes with every release: always
		// revalidate rather than run a stale client against a new server.
		h.Set("Cache-Control", "no-cache")
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			h.Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		switch r.URL.Path {
		case "/config.json":
			h.Set("Content-Type", "application/json")
			_, _ = w.Write(conf)
		case "/", "/index.html", "/app.js":
			fileServer.ServeHTTP(w, r)
		default:
			http.NotFound(w, r)
		}
	}), nil
}
