package consultest

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"testing"
)

// shared is the one agent a test binary's tests may share.
var shared struct {
	mu      sync.Mutex // guards following
	enabled bool       // EnableShared was called and its stop not yet
	agent   *Agent     // started on first Shared call
	err     error      // why the start failed; later callers get it too
	dir     string     // the agent's files, removed on stop
}

// Shared returns the test binary's shared agent, starting it on the first
// call; later calls, from any goroutine, get the same agent. The binary's
// TestMain must call Main (or EnableShared), which stops the agent after all
// tests have run; without it Shared fails the test rather than leak an
// agent. Tests sharing an agent see each other's data, so each should use
// names (services, KV prefixes) of its own.
func Shared(t testing.TB) *Agent {
	t.Helper()
	a, err := sharedAgent()
	if err != nil {
		t.Fatalf("consultest: %v", err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("consultest: shared agent log tail (%s):\n%s", a.proc.logPath, a.proc.logTail())
		}
	})
	return a
}

func sharedAgent() (*Agent, error) {
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if !shared.enabled {
		return nil, errors.New("Shared needs TestMain to call consultest.Main(m) or consultest.EnableShared(), which stop the shared agent after the tests")
	}
	if shared.agent != nil || shared.err != nil {
		return shared.agent, shared.err
	}
	dir, err := os.MkdirTemp("", "atoll-consul-*")
	if err != nil {
		shared.err = fmt.Errorf("shared agent: %w", err)
		return nil, shared.err
	}
	a, err := start(dir)
	if err != nil {
		os.RemoveAll(dir)
		shared.err = fmt.Errorf("shared agent: %w", err)
		return nil, shared.err
	}
	shared.agent, shared.dir = a, dir
	return a, nil
}

// EnableShared allows Shared in this test binary and returns the function
// that stops the shared agent, if one was started, and removes its files.
// Call it from TestMain around m.Run, as Main does; it exists for a
// TestMain that combines several such helpers.
func EnableShared() (stop func() error) {
	shared.mu.Lock()
	shared.enabled = true
	shared.mu.Unlock()
	return stopShared
}

func stopShared() error {
	shared.mu.Lock()
	defer shared.mu.Unlock()
	shared.enabled = false
	a, dir := shared.agent, shared.dir
	shared.agent, shared.dir, shared.err = nil, "", nil
	if a == nil {
		return nil
	}
	forced, err := a.proc.stop()
	if forced && err == nil {
		fmt.Fprintf(os.Stderr, "consultest: shared agent ignored SIGTERM for %s and was killed\n", stopGrace)
	}
	return errors.Join(err, os.RemoveAll(dir))
}

// Main runs the tests with Shared enabled, stops the shared agent afterwards
// and returns the exit code for os.Exit:
//
//	func TestMain(m *testing.M) { os.Exit(consultest.Main(m)) }
//
// A shared agent that died during the tests, or failed to stop, turns a
// passing run into a failing one.
func Main(m *testing.M) int {
	stop := EnableShared()
	code := m.Run()
	if err := stop(); err != nil {
		fmt.Fprintf(os.Stderr, "consultest: %v\n", err)
		if code == 0 {
			code = 1
		}
	}
	return code
}
