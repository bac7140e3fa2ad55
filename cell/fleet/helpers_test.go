package fleet

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	gameserver "github.com/atollgg/atoll/gameserver/server"
	"github.com/atollgg/atoll/internal/natstest"
	"github.com/atollgg/atoll/internal/tokens"
	"github.com/coder/websocket"
	"github.com/nats-io/nats.go/jetstream"
)

// Test timings. Heartbeats are fast so failure detection takes well under
// a second; the game lasts long enough for a client to tap a few times.
const (
	testHeartbeat   = 100 * time.Millisecond
	testGameLength  = 1500 * time.Millisecond
	testJoinTimeout = 10 * time.Second
	// waitTimeout bounds every wait on a real condition: starting a Go
	// binary and a round of SDK calls takes well under a second even on a
	// loaded 2-core box.
	waitTimeout = 20 * time.Second
	testIssuer  = "cell-test"
	// pollInterval is how often waitFor re-checks its condition.
	pollInterval = 10 * time.Millisecond
)

var (
	binOnce sync.Once
	binPath string
	binErr  error
	binDir  string
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "fleet-test-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binDir = dir
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// gameServerBinary builds gameserver/cmd/atoll-gameserver once per test
// binary.
func gameServerBinary(t testing.TB) string {
	t.Helper()
	binOnce.Do(func() {
		binPath = filepath.Join(binDir, "atoll-gameserver")
		out, err := exec.Command("go", "build", "-o", binPath, "github.com/atollgg/atoll/gameserver/cmd/atoll-gameserver").CombinedOutput()
		if err != nil {
			binErr = fmt.Errorf("build game server: %v\n%s", err, out)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

// testEnv is what a test needs around its fleets: one KV, one key ring,
// one log directory, one port range, shared by successive fleets.
type testEnv struct {
	js   jetstream.JetStream
	kv   jetstream.KeyValue
	ring *tokens.KeyRing
	logs string
	pmin int
}

func newTestEnv(t *testing.T) *testEnv {
	t.Helper()
	_, js := natstest.Start(t)
	// A random 200-port window above the usual service ports; the fleet
	// probes each port anyway, so a collision only skips a port.
	pmin := 20000 + rand.IntN(200)*100
	return &testEnv{js: js, kv: natstest.KeyValue(t, js, "cell"), ring: tokens.NewKeyRing(), logs: t.TempDir(), pmin: pmin}
}

func (e *testEnv) config(t *testing.T) Config {
	return Config{
		Command:          []string{gameServerBinary(t)},
		LogDir:           e.logs,
		PortMin:          e.pmin,
		PortMax:          e.pmin + 199,
		Buffer:           1,
		Max:              8,
		HeartbeatPeriod:  testHeartbeat,
		FailureThreshold: 10, // 1 s: tolerant of a loaded CI box under -race
		StopGrace:        5 * time.Second,
		ConnectKeys:      e.ring.JWKS,
		Issuer:           testIssuer,
		KV:               e.kv,
		Log:              testLogger(t),
		Env: []string{
			// These tests play the timed game (taps), not the default arena.
			"ATOLL_GAME=timed",
			gameserver.EnvGameDuration + "=" + testGameLength.String(),
			gameserver.EnvGameJoinTimeout + "=" + testJoinTimeout.String(),
			gameserver.EnvLogLevel + "=debug",
		},
	}
}

// startFleet starts a fleet and drains it at cleanup, killing whatever
// process might survive so no test leaks game servers.
func startFleet(t *testing.T, cfg Config) *Fleet {
	t.Helper()
	f, err := New(cfg)
	if err != nil {
		t.Fatalf("new fleet: %v", err)
	}
	if err := f.Start(context.Background()); err != nil {
		t.Fatalf("start fleet: %v", err)
	}
	t.Cleanup(func() {
		pids := map[int]bool{}
		for _, s := range f.Servers() {
			pids[s.PID] = true
		}
		ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
		defer cancel()
		if err := f.Drain(ctx); err != nil {
			t.Errorf("drain fleet: %v", err)
		}
		for pid := range pids {
			if pid > 0 && processAlive(ProcessRef{PID: pid}) {
				t.Errorf("game server pid %d outlived the drain", pid)
				_ = syscall.Kill(-pid, syscall.SIGKILL)
			}
		}
	})
	return f
}

// waitFor polls cond until it holds or waitTimeout passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	tick := time.NewTicker(pollInterval)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", waitTimeout, what)
		}
		<-tick.C
	}
}

func serversIn(f *Fleet, st State) []ServerInfo {
	var out []ServerInfo
	for _, s := range f.Servers() {
		if s.State == st {
			out = append(out, s)
		}
	}
	return out
}

func waitReady(t *testing.T, f *Fleet, n int) []ServerInfo {
	t.Helper()
	var ready []ServerInfo
	waitFor(t, fmt.Sprintf("%d ready servers", n), func() bool {
		ready = serversIn(f, StateReady)
		return len(ready) >= n
	})
	return ready
}

func serverInfo(f *Fleet, id string) (ServerInfo, bool) {
	for _, s := range f.Servers() {
		if s.ID == id {
			return s, true
		}
	}
	return ServerInfo{}, false
}

// nextEvent reads events until one of kind for session arrives.
func nextEvent(t *testing.T, f *Fleet, kind EventKind, session string) Event {
	t.Helper()
	timer := time.NewTimer(waitTimeout)
	defer timer.Stop()
	var seen []string
	for {
		select {
		case ev, ok := <-f.Events():
			if !ok {
				t.Fatalf("events closed while waiting for %s (seen %v)", kind, seen)
			}
			if ev.Kind == kind && ev.SessionID == session {
				return ev
			}
			seen = append(seen, string(ev.Kind))
		case <-timer.C:
			t.Fatalf("no %s event for %s within %v (seen %v)", kind, session, waitTimeout, seen)
		}
	}
}

// nextEvents reads events until one of each kind for session has arrived,
// in any order.
func nextEvents(t *testing.T, f *Fleet, session string, kinds ...EventKind) map[EventKind]Event {
	t.Helper()
	got := map[EventKind]Event{}
	timer := time.NewTimer(waitTimeout)
	defer timer.Stop()
	for len(got) < len(kinds) {
		select {
		case ev, ok := <-f.Events():
			if !ok {
				t.Fatalf("events closed while waiting for %v (got %v)", kinds, got)
			}
			if ev.SessionID == session && slices.Contains(kinds, ev.Kind) {
				if _, dup := got[ev.Kind]; !dup {
					got[ev.Kind] = ev
				}
			}
		case <-timer.C:
			t.Fatalf("events %v for %s not all seen within %v (got %v)", kinds, session, waitTimeout, got)
		}
	}
	return got
}

func testMatch(session string, players ...string) Match {
	m := Match{SessionID: session, Mode: "duel"}
	for i, p := range players {
		m.Players = append(m.Players, Player{ID: p, Team: i + 1})
	}
	return m
}

func (e *testEnv) token(t *testing.T, serverID, session, player string, issued time.Time) string {
	t.Helper()
	tok, err := e.ring.Sign(tokens.NewConnectClaims(testIssuer, serverID, session, player, issued, 0))
	if err != nil {
		t.Fatalf("sign connect token: %v", err)
	}
	return tok
}

// player is a test client's WebSocket to a game server.
type player struct {
	t  *testing.T
	ws *websocket.Conn
}

// dial connects to the allocation's game server and sends hello with tok.
func dial(t *testing.T, a Allocation, tok string) *player {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, fmt.Sprintf("ws://%s:%d%s", a.Host, a.Port, gameserver.PathConnect), nil)
	if err != nil {
		t.Fatalf("dial game server: %v", err)
	}
	t.Cleanup(func() { _ = ws.CloseNow() })
	hello, _ := json.Marshal(map[string]string{"token": tok})
	if err := ws.Write(ctx, websocket.MessageText, hello); err != nil {
		t.Fatalf("send hello: %v", err)
	}
	return &player{t: t, ws: ws}
}

// frame is any server frame of the timed game.
type frame struct {
	Type      string          `json:"type"`
	PlayerID  string          `json:"player_id"`
	SessionID string          `json:"session_id"`
	Results   json.RawMessage `json:"results"`
}

// read returns the next frame, or the close error.
func (p *player) read() (frame, error) {
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	_, data, err := p.ws.Read(ctx)
	if err != nil {
		return frame{}, err
	}
	var f frame
	if err := json.Unmarshal(data, &f); err != nil {
		p.t.Fatalf("server frame %q: %v", data, err)
	}
	return f, nil
}

func (p *player) expect(typ string) frame {
	p.t.Helper()
	f, err := p.read()
	if err != nil {
		p.t.Fatalf("waiting for %q frame: %v", typ, err)
	}
	if f.Type != typ {
		p.t.Fatalf("got %q frame, want %q", f.Type, typ)
	}
	return f
}

// expectClose reads until the server closes and checks code and reason.
func (p *player) expectClose(code websocket.StatusCode, reason string) {
	p.t.Helper()
	for {
		_, err := p.read()
		if err == nil {
			continue
		}
		var ce websocket.CloseError
		if !errors.As(err, &ce) {
			p.t.Fatalf("want close %d %q, got %v", code, reason, err)
		}
		if ce.Code != code || (reason != "" && ce.Reason != reason) {
			p.t.Fatalf("closed with %d %q, want %d %q", ce.Code, ce.Reason, code, reason)
		}
		return
	}
}

func (p *player) tap(n int) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	for range n {
		if err := p.ws.Write(ctx, websocket.MessageText, []byte(`{"type":"tap"}`)); err != nil {
			p.t.Fatalf("tap: %v", err)
		}
	}
}

// processEnv reads a live process's environment (Linux), so tests can act
// as a real game server with its own credentials.
func processEnv(t *testing.T, pid int) map[string]string {
	t.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/environ", pid))
	if err != nil {
		t.Skipf("cannot read a process environment here: %v", err)
	}
	env := map[string]string{}
	for kv := range strings.SplitSeq(string(data), "\x00") {
		if k, v, ok := strings.Cut(kv, "="); ok {
			env[k] = v
		}
	}
	return env
}

func playerIDs(ev Event) []string {
	ids := slices.Clone(ev.Players)
	slices.Sort(ids)
	return ids
}

// testLogger sends the fleet's logs to the test log, shown on failure or
// with -v.
func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}
