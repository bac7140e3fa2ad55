package federation_test

import (
	"context"
	"sync"
	"testing"

	"github.com/atollgg/atoll/contract"
	"github.com/atollgg/atoll/global/federation"
	"github.com/atollgg/atoll/global/hub/hubtest"
	"github.com/atollgg/atoll/internal/obs"
	"github.com/prometheus/client_golang/prometheus"
)

// TestAfterCommitOncePerApply: the after-commit hook sees every applied
// event once, after its effect is visible in the database, and never a
// duplicate (a redelivery the marker absorbs); registering it for an
// unknown handler or after Start is refused.
func TestAfterCommitOncePerApply(t *testing.T) {
	d := openDB(t)
	h := hubtest.StartHub(t, hubtest.HubConfig(t.TempDir(), "eu-1"))
	eu := hubtest.StartCell(t, hubtest.CellConfig("eu-1", t.TempDir(), h.LeafURL()))
	rec := &recorder{fails: map[string]int{}}

	var mu sync.Mutex // guards following
	seen := map[string]int{}
	visible := map[string]bool{}
	start := func() *federation.Federation {
		f, err := federation.New(federation.Config{DB: d, JS: h.JS, Registry: prometheus.NewRegistry(), Log: obs.Discard()})
		if err != nil {
			t.Fatal(err)
		}
		if err := f.Handle("test", contract.KindMatchCompleted, rec.apply); err != nil {
			t.Fatal(err)
		}
		if err := f.AfterCommit("nope", func(context.Context, federation.Event) {}); err == nil {
			t.Fatal("AfterCommit of an unknown handler accepted")
		}
		err = f.AfterCommit("test", func(ctx context.Context, ev federation.Event) {
			var n int
			err := d.Pool.QueryRow(ctx, `SELECT count(*) FROM fedtest_effects WHERE msg_id = $1`, ev.MsgID).Scan(&n)
			mu.Lock()
			defer mu.Unlock()
			seen[ev.MsgID]++
			visible[ev.MsgID] = err == nil && n == 1
		})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), hubtest.Timeout)
		defer cancel()
		if err := f.Start(ctx); err != nil {
			t.Fatal(err)
		}
		if err := f.AfterCommit("test", func(context.Context, federation.Event) {}); err == nil {
			t.Fatal("AfterCommit after Start accepted")
		}
		t.Cleanup(func() { _ = f.Shutdown(context.Background()) })
		return f
	}
	f := start()
	ids := seq("a-", 1, 6)
	publish(t, eu, ids...)
	waitEffects(t, d, ids...)
	waitDrained(t, h)

	// Redelivery of everything: duplicates never reach the hook.
	_ = f.Shutdown(context.Background())
	ctx, cancel := context.WithTimeout(context.Background(), hubtest.Timeout)
	defer cancel()
	if err := h.JS.DeleteConsumer(ctx, contract.CellEventsStream, federation.ConsumerName("test")); err != nil {
		t.Fatal(err)
	}
	start()
	publish(t, eu, "a-7")
	ids = append(ids, "a-7")
	waitEffects(t, d, ids...)
	waitDrained(t, h)
	mu.Lock()
	defer mu.Unlock()
	for _, id := range ids {
		if seen[id] != 1 || !visible[id] {
			t.Errorf("event %s: hook ran %d times, effect visible %v", id, seen[id], visible[id])
		}
	}
	if len(seen) != len(ids) {
		t.Errorf("hook saw %v, want %v", seen, ids)
	}
}
