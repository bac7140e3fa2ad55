package obs

import (
	"context"
	"net/http"
	"sort"
	"sync"
	"time"

	"github.com/atollgg/atoll/internal/httpx"
)

// ReadyCheckTimeout bounds one readiness probe: load balancers and Consul
// probe every few seconds and must get an answer before their own timeout.
const ReadyCheckTimeout = 2 * time.Second

// Health serves /healthz (the process is alive) and /readyz (every
// registered dependency answers).
type Health struct {
	mu     sync.Mutex // guards following
	checks map[string]func(context.Context) error
	down   bool
}

// NewHealth returns a Health with no checks.
func NewHealth() *Health { return &Health{checks: map[string]func(context.Context) error{}} }

// Add registers a named readiness check.
func (h *Health) Add(name string, check func(context.Context) error) {
	h.mu.Lock()
	h.checks[name] = check
	h.mu.Unlock()
}

// SetDraining marks the service not ready, so load balancers stop sending
// traffic before shutdown closes the listener.
func (h *Health) SetDraining() {
	h.mu.Lock()
	h.down = true
	h.mu.Unlock()
}

// Live handles /healthz.
func (h *Health) Live(w http.ResponseWriter, _ *http.Request) {
	httpx.WriteJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// Ready handles /readyz.
func (h *Health) Ready(w http.ResponseWriter, r *http.Request) {
	h.mu.Lock()
	down := h.down
	names := make([]string, 0, len(h.checks))
	for n := range h.checks {
		names = append(names, n)
	}
	checks := make(map[string]func(context.Context) error, len(h.checks))
	for n, c := range h.checks {
		checks[n] = c
	}
	h.mu.Unlock()
	sort.Strings(names)
	ctx, cancel := context.WithTimeout(r.Context(), ReadyCheckTimeout)
	defer cancel()
	status := map[string]string{}
	ok := !down
	for _, n := range names {
		if err := checks[n](ctx); err != nil {
			status[n] = "failing"
			ok = false
		} else {
			status[n] = "ok"
		}
	}
	if down {
		status["service"] = "draining"
	}
	code := http.StatusOK
	if !ok {
		code = http.StatusServiceUnavailable
	}
	httpx.WriteJSON(w, code, map[string]any{"ready": ok, "checks": status})
}
