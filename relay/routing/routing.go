// Package routing owns the routing stack relays and the global core both
// run: the topology folder's watcher, the Consul watch of cells' health and
// the route service over them.
package routing

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/atollgg/atoll/internal/tokens"
	"github.com/atollgg/atoll/relay/discovery"
	"github.com/atollgg/atoll/relay/route"
	"github.com/atollgg/atoll/topology"
)

// Config configures a Routing.
type Config struct {
	// TopologyDir is the topology folder. Required.
	TopologyDir string
	// ConsulAddr is the Consul agent whose atoll-cell health is followed;
	// zero means none, and every declared cell is taken as healthy.
	ConsulAddr string
	// ConsulToken is the Consul ACL token; zero means none.
	ConsulToken string
	// CellProbeInterval, without Consul, probes every declared cell's
	// /readyz this often and routes only to those that answer; zero means
	// no probing (every declared cell is healthy).
	CellProbeInterval time.Duration
	// Verifier checks players' access tokens. Required.
	Verifier *tokens.Verifier
	// Log receives reloads and watch failures; zero means slog.Default().
	Log *slog.Logger
}

// Routing is the routing stack.
type Routing struct {
	Topology *topology.Watcher
	Cells    *discovery.Watcher // nil without Consul
	Prober   *discovery.Prober  // nil with Consul or without probing
	Service  *route.Service
	log      *slog.Logger
}

// New loads the topology (which must validate) and builds the stack; Run
// keeps it current.
func New(cfg Config) (*Routing, error) {
	if cfg.TopologyDir == "" || cfg.Verifier == nil {
		return nil, errors.New("routing: TopologyDir and Verifier are required")
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	tw, err := topology.NewWatcher(topology.WatchConfig{Dir: cfg.TopologyDir, Log: cfg.Log})
	if err != nil {
		return nil, err
	}
	r := &Routing{Topology: tw, log: cfg.Log}
	health := func() route.Health { return route.Health{} }
	if cfg.ConsulAddr != "" {
		if r.Cells, err = discovery.NewWatcher(discovery.WatchConfig{ConsulAddr: cfg.ConsulAddr, Token: cfg.ConsulToken, Log: cfg.Log}); err != nil {
			return nil, err
		}
		health = r.Cells.Health
	} else if cfg.CellProbeInterval > 0 {
		r.Prober = discovery.NewProber(tw.World, cfg.CellProbeInterval, nil)
		health = r.Prober.Health
	}
	if r.Service, err = route.New(route.Config{World: tw.World, Health: health, Verifier: cfg.Verifier, Log: cfg.Log}); err != nil {
		return nil, err
	}
	return r, nil
}

// Routes mounts POST /route and GET /topology.
func (r *Routing) Routes(mux *http.ServeMux) { r.Service.Routes(mux) }

// Run watches the folder and Consul until ctx ends.
func (r *Routing) Run(ctx context.Context) {
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := r.Topology.Run(ctx); err != nil {
			r.log.Error("topology watch stopped; keeping the last good world", "err", err)
		}
	}()
	if r.Cells != nil {
		wg.Add(1)
		go func() { defer wg.Done(); r.Cells.Run(ctx) }()
	}
	if r.Prober != nil {
		wg.Add(1)
		go func() { defer wg.Done(); r.Prober.Run(ctx) }()
	}
	wg.Wait()
}
