package discovery

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/atollgg/atoll/relay/route"
	"github.com/atollgg/atoll/topology"
)

// Direct probing of cells, for deployments without Consul.
const (
	// DefaultProbeInterval is how often a Prober asks every declared cell's
	// /readyz: a failing cell leaves routing within seconds, and one small
	// request per cell per second is negligible.
	DefaultProbeInterval = time.Second
	// probeTimeout bounds one /readyz request; cells answer it within
	// obs.ReadyCheckTimeout (2 s).
	probeTimeout = 3 * time.Second
	// probeFailures is how many failed probes in a row mark a cell down,
	// so one dropped request does not move players.
	probeFailures = 2
)

// Prober follows the cells declared in the topology by asking their
// /readyz directly: the health source where Consul is not deployed.
type Prober struct {
	world    func() *topology.World
	every    time.Duration
	client   *http.Client
	current  atomic.Pointer[route.Health]
	onChange func(route.Health)
	failures map[string]int // by cell id; Run's goroutine only
}

// NewProber returns a Prober over world's cells; every zero means
// DefaultProbeInterval, onChange nil means no call. Its view is unknown
// until Run's first round.
func NewProber(world func() *topology.World, every time.Duration, onChange func(route.Health)) *Prober {
	if every <= 0 {
		every = DefaultProbeInterval
	}
	p := &Prober{world: world, every: every, client: &http.Client{Timeout: probeTimeout}, onChange: onChange, failures: map[string]int{}}
	p.current.Store(&route.Health{})
	return p
}

// Health returns the current view.
func (p *Prober) Health() route.Health { return *p.current.Load() }

// Run probes every interval until ctx ends.
func (p *Prober) Run(ctx context.Context) {
	t := time.NewTicker(p.every)
	defer t.Stop()
	for {
		p.round(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (p *Prober) round(ctx context.Context) {
	w := p.world()
	type result struct {
		id string
		ok bool
	}
	var cells []topology.Cell
	for _, r := range w.Regions {
		cells = append(cells, r.Cells...)
	}
	results := make([]result, len(cells))
	var wg sync.WaitGroup
	for i, c := range cells {
		wg.Add(1)
		go func() { // one per cell, ends within probeTimeout
			defer wg.Done()
			results[i] = result{id: c.ID, ok: p.ready(ctx, c.APIURL)}
		}()
	}
	wg.Wait()
	if ctx.Err() != nil {
		return
	}
	h := route.Health{Known: true, Cells: make(map[string]route.CellState, len(results))}
	seen := map[string]bool{}
	for _, r := range results {
		seen[r.id] = true
		if r.ok {
			p.failures[r.id] = 0
		} else {
			p.failures[r.id]++
		}
		h.Cells[r.id] = route.CellState{Healthy: p.failures[r.id] < probeFailures}
	}
	for id := range p.failures {
		if !seen[id] {
			delete(p.failures, id) // a cell removed from the topology
		}
	}
	old := p.current.Swap(&h)
	if p.onChange != nil && !sameHealth(*old, h) {
		p.onChange(h)
	}
}

func (p *Prober) ready(ctx context.Context, apiURL string) bool {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(apiURL, "/")+"/readyz", nil)
	if err != nil {
		return false
	}
	resp, err := p.client.Do(req)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

func sameHealth(a, b route.Health) bool {
	if a.Known != b.Known || len(a.Cells) != len(b.Cells) {
		return false
	}
	for id, st := range a.Cells {
		if b.Cells[id] != st {
			return false
		}
	}
	return true
}
