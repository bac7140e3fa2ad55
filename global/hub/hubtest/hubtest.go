// Package hubtest starts a real embedded hub and real cell buses joined by
// authenticated leaf connections, for the core's federation tests.
package hubtest

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/atollgg/atoll/cell/bus"
	"github.com/atollgg/atoll/global/hub"
	"github.com/atollgg/atoll/internal/obs"
)

// Timeout bounds every start, stop and wait of these helpers: a fresh
// JetStream store and a leaf handshake take well under a second even on a
// loaded 2-core machine.
const Timeout = 30 * time.Second

// EnvLog, set to any value, sends the hub's and cells' NATS logs to stderr
// at debug level, for diagnosing a failing test.
const EnvLog = "HUBTEST_LOG"

func testLog(side string) *slog.Logger {
	if os.Getenv(EnvLog) == "" {
		return obs.Discard()
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug})).With("side", side)
}

// SourceTimeout bounds waiting for the hub to source a cell's events. After
// the hub (re)starts, its first sourcing request may go out before the
// cell's leaf is back and then waits out nats-server's 30 s request timeout
// plus a 10 s backoff before the next attempt.
const SourceTimeout = 2 * time.Minute

// Secret is cell id's leaf password in hubs and cells these helpers start.
func Secret(id string) string { return "leaf-secret-of-" + id }

// HubConfig is a hub on a free loopback leaf port storing in dir, with
// leaf users for cells.
func HubConfig(dir string, cells ...string) hub.Config {
	secrets := map[string]string{}
	for _, id := range cells {
		secrets[id] = Secret(id)
	}
	return hub.Config{DataDir: dir, LeafHost: "127.0.0.1", LeafPort: hub.RandomPort, Cells: secrets, Log: testLog("hub")}
}

// StartHub starts cfg and stops it at cleanup (a test may stop it earlier).
func StartHub(t testing.TB, cfg hub.Config) *hub.Hub {
	t.Helper()
	h, err := hub.Start(startCtx(t), cfg)
	if err != nil {
		t.Fatalf("hubtest: start hub: %v", err)
	}
	t.Cleanup(func() { stop(h.Shutdown) })
	return h
}

// startCtx bounds one start or stop by Timeout.
func startCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), Timeout)
	t.Cleanup(cancel)
	return ctx
}

// stop runs a Shutdown at cleanup, bounded by Timeout.
func stop(shutdown func(context.Context) error) {
	ctx, cancel := context.WithTimeout(context.Background(), Timeout)
	defer cancel()
	_ = shutdown(ctx)
}

// CellConfig is cell id's bus storing in dir, a leaf of the hub at leafURL
// with its Secret.
func CellConfig(id, dir, leafURL string) bus.Config {
	return bus.Config{CellID: id, DataDir: dir, HubURL: leafURL, HubSecret: Secret(id), Log: testLog(id)}
}

// StartCell starts cfg and stops it at cleanup (a test may stop it earlier).
func StartCell(t testing.TB, cfg bus.Config) *bus.Bus {
	t.Helper()
	b, err := bus.Start(startCtx(t), cfg)
	if err != nil {
		t.Fatalf("hubtest: start cell bus: %v", err)
	}
	t.Cleanup(func() { stop(b.Shutdown) })
	return b
}

// WaitLeaf waits until b's leaf connection to the hub is up.
func WaitLeaf(t testing.TB, b *bus.Bus) {
	t.Helper()
	Eventually(t, "leaf connection of "+b.CellID(), b.LeafConnected)
}

// Eventually polls cond until it holds or Timeout passes. Polling is the
// only way to observe an asynchronous replication from outside it.
func Eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	EventuallyWithin(t, Timeout, what, cond)
}

// EventuallyWithin is Eventually with its own timeout.
func EventuallyWithin(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("hubtest: timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// LogWatch is a logger that signals when a record containing a substring
// is logged, for waiting on a refusal only the log reports.
type LogWatch struct {
	mu      sync.Mutex // guards following
	waiting map[string]chan struct{}
	seen    []string
}

// NewLogWatch returns an empty watch.
func NewLogWatch() *LogWatch { return &LogWatch{waiting: map[string]chan struct{}{}} }

// Logger is a slog.Logger feeding w.
func (w *LogWatch) Logger() *slog.Logger { return slog.New(watchHandler{w}) }

// Wait returns a channel closed once a record containing substr is logged.
func (w *LogWatch) Wait(substr string) <-chan struct{} {
	w.mu.Lock()
	defer w.mu.Unlock()
	ch := make(chan struct{})
	for _, s := range w.seen {
		if strings.Contains(s, substr) {
			close(ch)
			return ch
		}
	}
	w.waiting[substr] = ch
	return ch
}

// Seen lists the records logged so far that contain substr.
func (w *LogWatch) Seen(substr string) []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []string
	for _, s := range w.seen {
		if strings.Contains(s, substr) {
			out = append(out, s)
		}
	}
	return out
}

// Reset forgets the records seen so far.
func (w *LogWatch) Reset() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.seen = nil
}

func (w *LogWatch) add(msg string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.seen = append(w.seen, msg)
	for sub, ch := range w.waiting {
		if strings.Contains(msg, sub) {
			close(ch)
			delete(w.waiting, sub)
		}
	}
}

type watchHandler struct{ w *LogWatch }

func (h watchHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h watchHandler) Handle(_ context.Context, r slog.Record) error {
	h.w.add(fmt.Sprint(r.Message))
	return nil
}
func (h watchHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h watchHandler) WithGroup(string) slog.Handler      { return h }
