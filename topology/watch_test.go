package topology

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// watchWait bounds how long a test waits for the watcher to react; the
// debounce is milliseconds, so only a stalled machine comes near it.
const watchWait = 20 * time.Second

func TestWatcherReloadsAndKeepsLastGood(t *testing.T) {
	dir := writeDir(t, map[string]string{"core.yaml": testCore, "eu.yaml": testRegion})
	changes := make(chan *World, 4)
	errs := make(chan error, 4)
	w, err := NewWatcher(WatchConfig{
		Dir: dir, Debounce: 20 * time.Millisecond,
		OnChange: func(w *World) { changes <- w },
		OnError:  func(err error) { errs <- err },
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); _ = w.Run(ctx) }()
	t.Cleanup(func() { cancel(); wg.Wait() })

	// Run must be watching before the first write, or the event is lost
	// until the resync; a write that changes nothing proves it is.
	waitWatching(t, dir, changes)

	us := strings.NewReplacer("id: eu\n", "id: us\n", "eu-1", "us-1", "eu-r1", "us-r1").Replace(testRegion)
	write(t, filepath.Join(dir, "us.yaml"), us)
	select {
	case got := <-changes:
		if len(got.Regions) != 2 || got.Regions[1].ID != "us" {
			t.Fatalf("reloaded world has regions %+v", got.Regions)
		}
	case err := <-errs:
		t.Fatalf("good edit rejected: %v", err)
	case <-time.After(watchWait):
		t.Fatal("new region file not picked up")
	}

	// A broken edit is reported, naming the file and line, and the last
	// good world stays.
	write(t, filepath.Join(dir, "us.yaml"), strings.Replace(us, "10.0.0.1:7400", "nowhere", 1))
	select {
	case err := <-errs:
		if !strings.Contains(err.Error(), "us.yaml:11:7: beacon") {
			t.Fatalf("error = %v", err)
		}
	case <-changes:
		t.Fatal("broken edit accepted")
	case <-time.After(watchWait):
		t.Fatal("broken edit not reported")
	}
	if got := w.World(); len(got.Regions) != 2 {
		t.Fatalf("current world after a broken edit has %d regions, want the last good 2", len(got.Regions))
	}
}

// waitWatching rewrites a file until the watcher reports a reload: the
// first write may predate the watch, so it touches a scratch region that
// the caller's later edits do not depend on, then removes it again.
func waitWatching(t *testing.T, dir string, changes <-chan *World) {
	t.Helper()
	scratch := filepath.Join(dir, "zz.yaml")
	zz := strings.NewReplacer("id: eu\n", "id: zz\n", "eu-1", "zz-1", "eu-r1", "zz-r1").Replace(testRegion)
	deadline := time.After(watchWait)
	for i := 0; ; i++ {
		write(t, scratch, zz+strings.Repeat("#\n", i))
		select {
		case <-changes:
			if err := os.Remove(scratch); err != nil {
				t.Fatal(err)
			}
			select {
			case <-changes:
				return
			case <-deadline:
				t.Fatal("watcher did not see the scratch file removed")
			}
		case <-time.After(100 * time.Millisecond):
		case <-deadline:
			t.Fatal("watcher never reloaded")
		}
	}
}

func write(t *testing.T, path, content string) {
	t.Helper()
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	// Rename, as editors and config-map updates do.
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}
