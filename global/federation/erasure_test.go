package federation_test

import (
	"context"
	"encoding/json"
	"net/http"
	"sync"
	"testing"

	"github.com/atollgg/atoll/contract"
	"github.com/atollgg/atoll/global"
	"github.com/atollgg/atoll/global/globaltest"
	"github.com/atollgg/atoll/global/hub"
	"github.com/atollgg/atoll/global/hub/hubtest"
)

// TestPlayerErasureReachesCells: DELETE /player/me on a real core with its
// hub publishes contract.PlayerErased, which a cell's applier receives.
func TestPlayerErasureReachesCells(t *testing.T) {
	core := globaltest.Start(t, func(c *global.Config) {
		c.Hub = &hub.Config{LeafHost: "127.0.0.1", LeafPort: hub.RandomPort, Cells: map[string]string{"eu-1": hubtest.Secret("eu-1")}}
	})
	globaltest.MustStatus(t, core.Do(t, "GET", "/readyz", "", nil), http.StatusOK)
	cell := hubtest.StartCell(t, hubtest.CellConfig("eu-1", t.TempDir(), core.Hub.LeafURL()))

	var mu sync.Mutex // guards erased
	var erased []contract.PlayerErased
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- cell.ConsumeGlobal(ctx, "erasure", contract.KindPlayerErased, func(_ context.Context, data []byte) error {
			var ev contract.PlayerErased
			if err := json.Unmarshal(data, &ev); err != nil {
				return err
			}
			mu.Lock()
			defer mu.Unlock()
			erased = append(erased, ev)
			return nil
		})
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})

	p := core.Guest(t)
	globaltest.MustStatus(t, core.Do(t, "DELETE", "/player/me", p.Access, nil), http.StatusNoContent)
	hubtest.EventuallyWithin(t, hubtest.SourceTimeout, "erasure in the cell", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(erased) == 1
	})
	mu.Lock()
	defer mu.Unlock()
	if erased[0].PlayerID != p.ID || erased[0].ErasedAt.IsZero() {
		t.Fatalf("erasure event %+v, want player %s", erased[0], p.ID)
	}
}
