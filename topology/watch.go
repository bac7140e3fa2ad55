package topology

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync/atomic"
	"time"

	"github.com/fsnotify/fsnotify"
)

// DefaultDebounce is how long a Watcher waits after the last change before
// reloading: editors and `kubectl apply` write a file in several steps
// within milliseconds, and a quarter second still feels immediate.
const DefaultDebounce = 250 * time.Millisecond

// DefaultResync is how often a Watcher re-reads the folder even without an
// event: file systems that drop events (NFS, some container mounts) are
// caught up within half a minute.
const DefaultResync = 30 * time.Second

// WatchConfig configures a Watcher.
type WatchConfig struct {
	// Dir is the topology folder. Required.
	Dir string
	// Debounce is the quiet time before a reload; zero means DefaultDebounce.
	Debounce time.Duration
	// Resync is the period of reloads without events; zero means
	// DefaultResync.
	Resync time.Duration
	// OnChange is called, on Run's goroutine, with every new good world;
	// zero means no call.
	OnChange func(*World)
	// OnError is called, on Run's goroutine, when an edit breaks the world
	// (the last good one stays current); zero means it is only logged.
	OnError func(error)
	// Log receives reloads and broken edits; zero means slog.Default().
	Log *slog.Logger
}

// Watcher holds the current world of a folder and reloads it when files
// change. A broken edit is reported and the last good world kept.
type Watcher struct {
	cfg     WatchConfig
	current atomic.Pointer[World]
	digest  [sha256.Size]byte // of the folder last loaded; Run's goroutine only
}

// NewWatcher loads the folder, which must validate, and returns a Watcher
// serving it. Run picks up later changes.
func NewWatcher(cfg WatchConfig) (*Watcher, error) {
	if cfg.Dir == "" {
		return nil, errors.New("topology watcher: no folder")
	}
	if cfg.Debounce <= 0 {
		cfg.Debounce = DefaultDebounce
	}
	if cfg.Resync <= 0 {
		cfg.Resync = DefaultResync
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	w := &Watcher{cfg: cfg}
	world, err := Load(cfg.Dir)
	if err != nil {
		return nil, fmt.Errorf("topology %s:\n%w", cfg.Dir, err)
	}
	w.digest, _ = digestOf(cfg.Dir)
	w.current.Store(world)
	return w, nil
}

// World returns the current world; it is never nil.
func (w *Watcher) World() *World { return w.current.Load() }

// Run watches the folder until ctx ends. It returns an error only if the
// folder cannot be watched at all.
func (w *Watcher) Run(ctx context.Context) error {
	fw, err := fsnotify.NewWatcher()
	if err != nil {
		return fmt.Errorf("topology watcher: %w", err)
	}
	defer fw.Close()
	if err := fw.Add(w.cfg.Dir); err != nil {
		return fmt.Errorf("topology watcher: watch %s: %w", w.cfg.Dir, err)
	}
	debounce := time.NewTimer(time.Hour)
	debounce.Stop()
	defer debounce.Stop()
	resync := time.NewTicker(w.cfg.Resync)
	defer resync.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-fw.Events:
			if !ok {
				return errors.New("topology watcher: event channel closed")
			}
			if ev.Op != fsnotify.Chmod {
				debounce.Reset(w.cfg.Debounce)
			}
		case err, ok := <-fw.Errors:
			if !ok {
				return errors.New("topology watcher: error channel closed")
			}
			// Overflow means events were lost: reload to catch up.
			w.cfg.Log.Warn("topology watcher", "err", err)
			debounce.Reset(w.cfg.Debounce)
		case <-debounce.C:
			w.reload()
		case <-resync.C:
			w.reload()
		}
	}
}

// reload loads the folder if its files changed since the last attempt.
func (w *Watcher) reload() {
	d, err := digestOf(w.cfg.Dir)
	if err == nil && d == w.digest {
		return
	}
	w.digest = d
	world, err := Load(w.cfg.Dir)
	if err != nil {
		w.cfg.Log.Error("topology edit rejected; keeping the last good world", "dir", w.cfg.Dir, "problems", err.Error())
		if w.cfg.OnError != nil {
			w.cfg.OnError(err)
		}
		return
	}
	w.current.Store(world)
	w.cfg.Log.Info("topology reloaded", "dir", w.cfg.Dir, "regions", len(world.Regions))
	if w.cfg.OnChange != nil {
		w.cfg.OnChange(world)
	}
}

// digestOf hashes the names and contents of the folder's topology files, so
// events that change nothing (a touch, an editor's swap file) cost no reload.
func digestOf(dir string) ([sha256.Size]byte, error) {
	var d [sha256.Size]byte
	names, err := Files(dir)
	if err != nil {
		return d, err
	}
	h := sha256.New()
	for _, n := range names {
		fmt.Fprintf(h, "%s\x00", n)
		f, err := os.Open(n)
		if err != nil {
			return d, err
		}
		_, err = io.Copy(h, io.LimitReader(f, MaxFileBytes+1))
		f.Close()
		if err != nil {
			return d, err
		}
		h.Write([]byte{0})
	}
	copy(d[:], h.Sum(nil))
	return d, nil
}
