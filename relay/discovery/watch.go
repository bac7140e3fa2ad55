package discovery

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/atollgg/atoll/relay/route"
	"github.com/hashicorp/consul/api"
)

// CellService is the Consul service cells register as (cell/registry).
const CellService = "atoll-cell"

// Meta keys a cell's registration carries (cell/registry). MetaLoad is
// optional: the cell's share of its capacity in use, 0-1.
const (
	MetaCellID = "cell_id"
	MetaLoad   = "load"
)

// Watch timings.
const (
	// blockWait is how long one blocking query waits for a change: Consul
	// answers as soon as anything changes, so this only sets how often an
	// idle watch re-asks (Consul's default is 5 min; a minute notices a
	// silently dead connection sooner).
	blockWait = time.Minute
	// retryDelay is the pause after a failed query, so an agent that is
	// down is not hammered.
	retryDelay = time.Second
	// StaleAfter is how long after its last answer the watch stops
	// trusting Consul's view: a relay cut off from its agent then routes
	// by the topology files alone rather than by a frozen picture.
	StaleAfter = 15 * time.Second
)

// WatchConfig configures a Watcher.
type WatchConfig struct {
	// ConsulAddr is the agent's HTTP address. Required.
	ConsulAddr string
	// Token is the Consul ACL token; empty means none.
	Token string
	// OnChange is called on Run's goroutine with every new view; zero
	// means no call.
	OnChange func(route.Health)
	// Log receives query failures; zero means slog.Default().
	Log *slog.Logger
}

// Watcher follows the health of every atoll-cell instance. Its view is
// Known only while Consul answers; otherwise routing falls back to the
// topology files.
type Watcher struct {
	cfg     WatchConfig
	client  *api.Client
	current atomic.Pointer[route.Health]
	// failingSince is the unix nanoseconds of the first failed query since
	// the last answer; zero while Consul answers.
	failingSince atomic.Int64
}

// NewWatcher checks cfg and returns a Watcher whose view is unknown until
// Run's first answer.
func NewWatcher(cfg WatchConfig) (*Watcher, error) {
	if cfg.ConsulAddr == "" {
		return nil, errors.New("cell watcher: no consul address")
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	client, err := api.NewClient(&api.Config{Address: cfg.ConsulAddr, Token: cfg.Token})
	if err != nil {
		return nil, fmt.Errorf("cell watcher: %w", err)
	}
	w := &Watcher{cfg: cfg, client: client}
	w.current.Store(&route.Health{})
	return w, nil
}

// Health returns the current view; Known is false before Consul's first
// answer and once its queries have failed for StaleAfter.
func (w *Watcher) Health() route.Health {
	h := *w.current.Load()
	if f := w.failingSince.Load(); h.Known && f != 0 && time.Since(time.Unix(0, f)) > StaleAfter {
		return route.Health{}
	}
	return h
}

// Run follows the cells with blocking queries until ctx ends.
func (w *Watcher) Run(ctx context.Context) {
	var index uint64
	failing := false
	for ctx.Err() == nil {
		q := (&api.QueryOptions{WaitIndex: index, WaitTime: blockWait}).WithContext(ctx)
		entries, meta, err := w.client.Health().Service(CellService, "", false, q)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			if !failing {
				w.failingSince.Store(time.Now().UnixNano())
				w.cfg.Log.Warn("consul cell watch failing; routing by topology files once stale", "err", err, "stale_after", StaleAfter)
				failing = true
			}
			index = 0
			select {
			case <-ctx.Done():
				return
			case <-time.After(retryDelay):
			}
			continue
		}
		failing = false
		w.failingSince.Store(0)
		// An index that goes backwards (agent restart) restarts the watch.
		if meta.LastIndex < index {
			index = 0
		} else {
			index = meta.LastIndex
		}
		h := viewOf(entries)
		w.current.Store(&h)
		if w.cfg.OnChange != nil {
			w.cfg.OnChange(h)
		}
	}
}

// viewOf turns Consul's entries into a health view: a cell is healthy when
// every check of its instance passes.
func viewOf(entries []*api.ServiceEntry) route.Health {
	h := route.Health{Known: true, Cells: make(map[string]route.CellState, len(entries))}
	for _, e := range entries {
		id := e.Service.Meta[MetaCellID]
		if id == "" {
			continue
		}
		st := route.CellState{Healthy: e.Checks.AggregatedStatus() == api.HealthPassing}
		if l, err := strconv.ParseFloat(e.Service.Meta[MetaLoad], 64); err == nil && l >= 0 {
			st.Load = l
		}
		// Two instances of one cell id (a restart): healthy if either is.
		if prev, ok := h.Cells[id]; ok && prev.Healthy {
			continue
		}
		h.Cells[id] = st
	}
	return h
}
