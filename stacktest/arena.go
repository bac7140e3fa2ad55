// Package stacktest owns the test harnesses that cross the architecture's boundaries: arena servers behind a real cell fleet, and whole stacks (a global core and a cell), so that gameserver/ imports neither cell/ nor global/.
package stacktest

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/atollgg/atoll/cell/fleet"
	"github.com/atollgg/atoll/gameserver/arenagame"
	"github.com/atollgg/atoll/gameserver/client"
	"github.com/atollgg/atoll/gameserver/sdk"
	"github.com/atollgg/atoll/gameserver/server"
	"github.com/atollgg/atoll/internal/natstest"
	"github.com/atollgg/atoll/internal/tokens"
	"github.com/google/uuid"
)

// Timings of the harness.
const (
	// WaitTimeout bounds every wait on a real condition: an in-process
	// server is Ready within milliseconds and a test match lasts seconds,
	// even on a loaded 2-core machine with -race.
	WaitTimeout = 60 * time.Second
	// heartbeat is the servers' SDK heartbeat: servers share the test
	// process (and -race's slowdown) with every client, so a tight period
	// would flag a busy server unhealthy; nothing here tests detection.
	heartbeat = time.Second
	// issuer is the "iss" of the harness's connect tokens.
	issuer = "urn:atoll:cell:stacktest"
	// Mode is the game mode of the harness's matches.
	Mode = "arena"
)

// Options configure a harness.
type Options struct {
	// Game is every server's arena configuration.
	Game arenagame.Config
	// Servers is the warm buffer of Ready servers; zero means 1.
	Servers int
	// Command, when set, runs every server as a real process (the fleet's
	// local backend, logs in a temporary directory) with Env as its extra
	// environment, instead of in-process with Game.
	Command []string
	Env     []string
	// Log receives the fleet's and the servers' logs; nil means the test
	// log at info level.
	Log *slog.Logger
}

// Env is a running fleet of in-process arena servers.
type Env struct {
	Fleet *fleet.Fleet
	keys  *tokens.KeyRing

	mu        sync.Mutex // guards following
	events    []fleet.Event
	telemetry []fleet.Telemetry
	notify    chan struct{} // closed and replaced when an event arrives
}

// storeTelemetry is the fleet's telemetry sink: it keeps every batch.
func (e *Env) storeTelemetry(_ context.Context, t fleet.Telemetry) error {
	e.mu.Lock()
	e.telemetry = append(e.telemetry, t)
	e.mu.Unlock()
	return nil
}

// Telemetry returns the telemetry events the servers sent about session,
// as the fleet accepted them.
func (e *Env) Telemetry(session string) []sdk.TelemetryEvent {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []sdk.TelemetryEvent
	for _, t := range e.telemetry {
		if t.SessionID == session {
			out = append(out, t.Events...)
		}
	}
	return out
}

// Start runs a fleet whose servers play the arena in-process; everything
// stops at the end of the test.
func Start(t testing.TB, opts Options) *Env {
	t.Helper()
	if opts.Servers == 0 {
		opts.Servers = 1
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelInfo}))
	}
	if opts.Game.Log == nil {
		opts.Game.Log = opts.Log
	}
	newGame, err := arenagame.NewGameFunc(opts.Game)
	if err != nil {
		t.Fatalf("stacktest: %v", err)
	}
	_, js := natstest.Start(t)
	backend := &backend{newGame: newGame, log: opts.Log}
	lo := 21000 + 50*rand.IntN(300)
	e := &Env{keys: tokens.NewKeyRing(), notify: make(chan struct{})}
	fc := fleet.Config{
		Backend: backend, PortMin: lo, PortMax: lo + 49, Buffer: opts.Servers, Max: opts.Servers + 8,
		HeartbeatPeriod: heartbeat, StopGrace: 5 * time.Second,
		ConnectKeys: e.keys.JWKS, Issuer: issuer, KV: natstest.KeyValue(t, js, "stacktest"),
		Telemetry: e.storeTelemetry, Log: opts.Log,
	}
	if len(opts.Command) > 0 {
		fc.Backend, fc.Command, fc.LogDir, fc.Env = nil, opts.Command, t.TempDir(), opts.Env
	}
	f, err := fleet.New(fc)
	if err != nil {
		t.Fatalf("stacktest: new fleet: %v", err)
	}
	if err := f.Start(context.Background()); err != nil {
		t.Fatalf("stacktest: start fleet: %v", err)
	}
	e.Fleet = f
	collected := make(chan struct{})
	go func() { // collects fleet events; ends when Drain closes the channel
		defer close(collected)
		for ev := range f.Events() {
			e.mu.Lock()
			e.events = append(e.events, ev)
			close(e.notify)
			e.notify = make(chan struct{})
			e.mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), WaitTimeout)
		defer cancel()
		if err := f.Drain(ctx); err != nil {
			t.Errorf("stacktest: drain fleet: %v", err)
		}
		<-collected
		backend.stopAll()
	})
	return e
}

// Allocate allocates a Ready server for a new session of players and
// returns the session id and where to connect.
func (e *Env) Allocate(t testing.TB, players ...string) (string, fleet.Allocation) {
	t.Helper()
	m := fleet.Match{SessionID: uuid.NewString(), Mode: Mode}
	for i, p := range players {
		m.Players = append(m.Players, fleet.Player{ID: p, Team: i})
	}
	deadline := time.Now().Add(WaitTimeout)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), WaitTimeout)
		a, err := e.Fleet.Allocate(ctx, m)
		cancel()
		if err == nil {
			return m.SessionID, a
		}
		if time.Now().After(deadline) {
			t.Fatalf("stacktest: allocate: %v", err)
		}
		// No Ready server yet: the fleet is starting one.
		e.waitEvent(deadline, func() bool { return readyServers(e.Fleet) > 0 })
	}
}

func readyServers(f *fleet.Fleet) int {
	n := 0
	for _, s := range f.Servers() {
		if s.State == fleet.StateReady {
			n++
		}
	}
	return n
}

// waitEvent waits for cond, re-checking on every fleet event and every
// few milliseconds (server states change without events), until deadline.
func (e *Env) waitEvent(deadline time.Time, cond func() bool) bool {
	const recheck = 20 * time.Millisecond // states other than events are polled
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		e.mu.Lock()
		ch := e.notify
		e.mu.Unlock()
		t := time.NewTimer(recheck)
		select {
		case <-ch:
		case <-t.C:
		}
		t.Stop()
	}
	return true
}

// Token signs a connect token for player in the allocation's session.
func (e *Env) Token(t testing.TB, a fleet.Allocation, player string) string {
	t.Helper()
	tok, err := e.keys.Sign(tokens.NewConnectClaims(issuer, a.ServerID, a.SessionID, player, time.Now(), 0))
	if err != nil {
		t.Fatalf("stacktest: sign connect token: %v", err)
	}
	return tok
}

// URL is the WebSocket URL of the allocation's game server.
func URL(a fleet.Allocation) string {
	return fmt.Sprintf("ws://%s:%d%s", a.Host, a.Port, server.PathConnect)
}

// PlayBots connects one bot per player to the allocation's session, all at
// once, and plays until the match ends; player i's bot is seeded i+1.
// route chooses a player's URL and options; nil means URL(a) and the
// defaults. Any player's failure fails the test.
func (e *Env) PlayBots(ctx context.Context, t testing.TB, a fleet.Allocation, players []string, route func(i int) (string, client.Options)) []client.Result {
	t.Helper()
	if route == nil {
		route = func(int) (string, client.Options) { return URL(a), client.Options{} }
	}
	results := make([]client.Result, len(players))
	errs := make([]error, len(players))
	var wg sync.WaitGroup
	for i, p := range players {
		url, opts := route(i)
		wg.Add(1)
		go func() {
			defer wg.Done()
			conn, err := client.Dial(ctx, url, e.Token(t, a, p), opts)
			if err != nil {
				errs[i] = err
				return
			}
			results[i], errs[i] = conn.PlayBot(ctx, uint64(i+1))
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("stacktest: player %s: %v", players[i], err)
		}
	}
	return results
}

// SessionEnd waits for the session's terminal event (ended, with the
// results the server reported, or failed).
func (e *Env) SessionEnd(t testing.TB, session string) fleet.Event {
	t.Helper()
	var found fleet.Event
	ok := e.waitEvent(time.Now().Add(WaitTimeout), func() bool {
		e.mu.Lock()
		defer e.mu.Unlock()
		for _, ev := range e.events {
			if ev.SessionID == session && (ev.Kind == fleet.EventSessionEnded || ev.Kind == fleet.EventSessionFailed) {
				found = ev
				return true
			}
		}
		return false
	})
	if !ok {
		t.Fatalf("stacktest: session %s did not end within %v", session, WaitTimeout)
	}
	return found
}

// Events returns the fleet events of session so far.
func (e *Env) Events(session string) []fleet.Event {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []fleet.Event
	for _, ev := range e.events {
		if ev.SessionID == session {
			out = append(out, ev)
		}
	}
	return out
}

// backend runs game servers as goroutines of the test process.
type backend struct {
	newGame server.NewGameFunc
	log     *slog.Logger

	mu    sync.Mutex // guards following
	procs []*process
}

func (b *backend) Start(_ context.Context, spec fleet.Spec) (fleet.Process, error) {
	env := map[string]string{}
	for _, kv := range spec.Env {
		if k, v, ok := strings.Cut(kv, "="); ok {
			env[k] = v
		}
	}
	cfg, err := server.ConfigFromEnv(func(k string) string { return env[k] })
	if err != nil {
		return nil, err
	}
	cfg.NewGame = b.newGame
	cfg.Log = b.log.With("server", spec.ID)
	// The server's life is its own, not Start's context's: like a process,
	// it outlives the call and ends on Stop or Kill.
	ctx, cancel := context.WithCancel(context.Background())
	p := &process{ref: fleet.ProcessRef{Name: spec.ID}, cancel: cancel, exited: make(chan struct{})}
	go func() { // the "process"; ends when Run returns
		defer close(p.exited)
		if err := server.Run(ctx, cfg); err != nil {
			p.reason = "exit: " + err.Error()
		} else {
			p.reason = "exit status 0"
		}
	}()
	b.mu.Lock()
	b.procs = append(b.procs, p)
	b.mu.Unlock()
	return p, nil
}

func (b *backend) Adopt(context.Context, fleet.ProcessRef) (fleet.Process, error) {
	return nil, fleet.ErrProcessGone // in-process servers never outlive their fleet
}

// stopAll ends every server still running and waits for them.
func (b *backend) stopAll() {
	b.mu.Lock()
	procs := append([]*process(nil), b.procs...)
	b.mu.Unlock()
	for _, p := range procs {
		p.cancel()
		<-p.exited
	}
}

type process struct {
	ref    fleet.ProcessRef
	cancel context.CancelFunc
	exited chan struct{}
	reason string // written before exited is closed
}

func (p *process) Ref() fleet.ProcessRef   { return p.ref }
func (p *process) Exited() <-chan struct{} { return p.exited }
func (p *process) ExitReason() string      { return p.reason }
func (p *process) Stop() error             { p.cancel(); return nil }
func (p *process) Kill() error             { p.cancel(); return nil }

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}
