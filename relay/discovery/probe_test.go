package discovery

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/atollgg/atoll/relay/route"
	"github.com/atollgg/atoll/topology"
)

func TestProberFollowsReadyz(t *testing.T) {
	var ready atomic.Bool
	ready.Store(true)
	cell := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/readyz" || !ready.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}))
	t.Cleanup(cell.Close)
	dir := t.TempDir()
	for name, content := range map[string]string{
		"core.yaml": "version: 1\ncore: {api_url: http://core.test}\n",
		"eu.yaml": fmt.Sprintf("version: 1\nregion:\n  id: eu\n  name: EU\n  location: {lat: 1, lon: 1}\n"+
			"  cells: [{id: eu-1, api_url: %q}]\n  relays: [{id: eu-r1, beacon: \"127.0.0.1:1\", url: \"http://127.0.0.1:1\"}]\n", cell.URL),
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	w, err := topology.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	views := make(chan route.Health, 16)
	p := NewProber(func() *topology.World { return w }, 10*time.Millisecond, func(h route.Health) { views <- h })
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); p.Run(ctx) }()
	t.Cleanup(func() { cancel(); wg.Wait() })
	expect := func(healthy bool) {
		t.Helper()
		deadline := time.After(changeWait)
		for {
			select {
			case h := <-views:
				if h.Known && h.Cells["eu-1"].Healthy == healthy {
					return
				}
			case <-deadline:
				t.Fatalf("cell never became healthy=%v", healthy)
			}
		}
	}
	expect(true)
	ready.Store(false)
	expect(false)
	ready.Store(true)
	expect(true)
}
