package fleet

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/atollgg/atoll/internal/httpx"
	"github.com/nats-io/nats.go/jetstream"
)

// Errors callers switch on.
var (
	// ErrNoCapacity means no server was Ready; the fleet is scaling up and
	// the caller should retry shortly.
	ErrNoCapacity = errors.New("fleet: no ready game server")
	// ErrClosed means the fleet is not running (not started, draining or
	// shut down).
	ErrClosed = errors.New("fleet: not running")
	// ErrInvalidMatch wraps a reason a match cannot be allocated.
	ErrInvalidMatch = errors.New("fleet: invalid match")
	// ErrAllocationInProgress means another Allocate for the same session
	// has not finished yet.
	ErrAllocationInProgress = errors.New("fleet: session is being allocated")
)

// drainKillWait bounds how long Drain waits for killed servers to be reaped
// once its context has ended: SIGKILL takes effect in milliseconds.
const drainKillWait = 5 * time.Second

// lifecycle of the Fleet itself.
type lifecycle int

const (
	lifeNew lifecycle = iota
	lifeRunning
	lifeDraining
	lifeClosed
)

// Fleet runs a cell's game servers. Create it with New, then Start; it is
// safe for concurrent use.
type Fleet struct {
	cfg     Config
	log     *slog.Logger
	kv      jetstream.KeyValue
	backend Backend
	metrics *metrics
	events  *eventQueue
	wake    chan struct{} // cap 1: asks the control loop to reconcile now
	exits   chan struct{} // cap 1: a server exited (for Drain)

	mu            sync.RWMutex // guards following
	life          lifecycle
	servers       map[string]*server
	ready         []*server // Ready, not reserved, oldest first
	sessions      map[string]*server
	ports         map[int]bool
	nextPort      int
	startFailures int       // consecutive servers that died before Ready
	nextStartAt   time.Time // crash-loop backoff

	runCtx   context.Context // ends at Shutdown; owns every goroutine
	cancel   context.CancelFunc
	wg       sync.WaitGroup
	sdkSrv   *httpx.Server
	sdkAddr  string
	stopOnce sync.Once
	stopErr  error
}

// New checks cfg, fills its defaults and returns a Fleet that does nothing
// until Start.
func New(cfg Config) (*Fleet, error) {
	if err := cfg.applyDefaults(); err != nil {
		return nil, fmt.Errorf("new fleet: %w", err)
	}
	if err := cfg.validate(); err != nil {
		return nil, fmt.Errorf("new fleet: %w", err)
	}
	runCtx, cancel := context.WithCancel(context.Background())
	f := &Fleet{
		cfg:      cfg,
		log:      cfg.Log.With("component", "fleet"),
		kv:       cfg.KV,
		backend:  cfg.Backend,
		wake:     make(chan struct{}, 1),
		exits:    make(chan struct{}, 1),
		servers:  map[string]*server{},
		sessions: map[string]*server{},
		ports:    map[int]bool{},
		runCtx:   runCtx,
		cancel:   cancel,
	}
	f.metrics = newMetrics(f, cfg.Registry)
	f.events = newEventQueue(cfg.Events, f.metrics.eventsDropped.Inc, func(err error) {
		f.metrics.eventSinkFailures.Inc()
		f.log.Warn("store session event; retrying", "err", err)
	})
	return f, nil
}

// Events returns the channel of session events when Config.Events is nil;
// it is closed by Shutdown. See the delivery policy in events.go: session
// events are never dropped, player events are dropped when the consumer
// falls far behind, and a terminal event may be repeated after a cell
// restart.
func (f *Fleet) Events() <-chan Event { return f.events.out }

// SDKAddr returns the address the SDK API listens on (after Start).
func (f *Fleet) SDKAddr() string {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return f.sdkAddr
}

// Start re-adopts the servers recorded in the KV whose processes still run
// (they must heartbeat within the failure window or are replaced), emits
// the outcome of sessions whose servers died while the cell was down,
// starts the SDK API and begins filling the warm buffer. ctx bounds only
// Start itself; the fleet runs until Shutdown.
func (f *Fleet) Start(ctx context.Context) error {
	f.mu.Lock()
	if f.life != lifeNew {
		f.mu.Unlock()
		return errors.New("start fleet: already started")
	}
	f.life = lifeRunning
	f.mu.Unlock()

	if err := f.start(ctx); err != nil {
		f.cancel()
		f.wg.Wait()
		f.mu.Lock()
		f.life = lifeClosed
		f.mu.Unlock()
		return fmt.Errorf("start fleet: %w", err)
	}
	return nil
}

func (f *Fleet) start(ctx context.Context) error {
	f.wg.Add(1)
	go func() { // event dispatcher; stops at Shutdown (or a failed Start)
		defer f.wg.Done()
		f.events.run(f.runCtx, f.delivered)
	}()
	recs, err := f.loadRecords(ctx)
	if err != nil {
		return err
	}
	for _, rec := range recs {
		f.adopt(rec)
	}
	if err := f.listenSDK(ctx); err != nil {
		return err
	}
	f.wg.Add(1)
	go func() { // control loop; stops at Shutdown
		defer f.wg.Done()
		f.loop()
	}()
	f.poke()
	f.log.Info("fleet started", "sdk_addr", f.SDKAddr(), "adopted", len(recs))
	return nil
}

// listenSDK binds the SDK API, preferring the address of the previous run
// when the configured port is 0 (see Config.SDKAddr).
func (f *Fleet) listenSDK(ctx context.Context) error {
	handler := f.sdkHandler()
	_, port, _ := net.SplitHostPort(f.cfg.SDKAddr)
	var srv *httpx.Server
	if port == "0" {
		saved, err := f.savedSDKAddr(ctx)
		if err != nil {
			return err
		}
		if saved != "" {
			if srv, err = httpx.Listen(saved, handler); err != nil {
				f.log.Warn("previous SDK address unavailable; servers that outlived the restart will be replaced", "addr", saved, "err", err)
			}
		}
	}
	if srv == nil {
		var err error
		if srv, err = httpx.Listen(f.cfg.SDKAddr, handler); err != nil {
			return fmt.Errorf("SDK API: %w", err)
		}
	}
	addr := dialableAddr(srv.Addr())
	if err := f.saveSDKAddr(ctx, addr); err != nil {
		_ = srv.Close()
		return err
	}
	f.mu.Lock()
	f.sdkSrv, f.sdkAddr = srv, addr
	f.mu.Unlock()
	srv.Start()
	return nil
}

// dialableAddr turns a wildcard listen address into one servers can dial.
func dialableAddr(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}

// adopt takes over a server recorded by a previous run.
func (f *Fleet) adopt(rec *record) {
	s := &server{
		id: rec.ID, host: rec.Host, port: rec.Port, createdAt: rec.CreatedAt, adopted: true,
		state: rec.State, readyAt: rec.ReadyAt, allocatedAt: rec.AllocatedAt, alloc: rec.Allocation,
		active: rec.Active, results: rec.Results, outcome: rec.Outcome, outcomeSent: rec.OutcomeSent,
		connected: map[string]bool{}, changed: make(chan struct{}),
	}
	copy(s.secretHash[:], rec.SecretHash)
	now := time.Now()
	// The grace of a full failure window starts now: the server has been
	// retrying to reach the SDK address while the cell was down.
	s.beat(now)

	proc, err := f.backend.Adopt(f.runCtx, rec.Proc)
	f.mu.Lock()
	f.servers[s.id] = s
	f.ports[s.port] = true
	if s.alloc != nil && s.outcome == nil {
		f.sessions[s.alloc.SessionID] = s
	}
	if err != nil {
		s.exited = true
		if !errors.Is(err, ErrProcessGone) {
			f.log.Error("adopt game server", "server", s.id, "err", err)
		}
		decided := f.decideOutcomeLocked(s, "server exited while the cell was down", now)
		pending := s.outcome != nil && !s.outcomeSent
		if pending && !decided { // decided ones are queued already
			f.events.push(s.terminalEventLocked(), s)
		}
		f.mu.Unlock()
		if !pending {
			f.remove(s)
		}
		return
	}
	s.proc = proc
	switch s.state {
	case StateReady:
		f.ready = append(f.ready, s)
		slices.SortFunc(f.ready, func(a, b *server) int { return a.readyAt.Compare(b.readyAt) })
	case StateShutdown, StateUnhealthy:
		s.stopAt = now
	}
	if s.outcome != nil && !s.outcomeSent {
		f.events.push(s.terminalEventLocked(), s)
	} else if s.alloc != nil && s.active && s.outcome == nil {
		// The previous cell may have died between recording the game's
		// start and its session store applying the event: say it again
		// (applying it twice is harmless), so the session is not left
		// waiting for players while its game runs.
		f.events.push(Event{Kind: EventSessionActive, SessionID: s.alloc.SessionID, ServerID: s.id, Players: s.playerIDsLocked(), At: now}, nil)
	}
	f.mu.Unlock()
	f.log.Info("adopted game server", "server", s.id, "state", s.state, "pid", rec.Proc.PID)
	f.watch(s, proc)
}

// watch reacts to proc's exit, until Shutdown.
func (f *Fleet) watch(s *server, proc Process) {
	f.wg.Add(1)
	go func() {
		defer f.wg.Done()
		select {
		case <-proc.Exited():
			f.onExit(s, proc.ExitReason())
		case <-f.runCtx.Done():
		}
	}()
}

// Servers describes every server, ordered by id.
func (f *Fleet) Servers() []ServerInfo {
	f.mu.RLock()
	out := make([]ServerInfo, 0, len(f.servers))
	for _, s := range f.servers {
		out = append(out, s.infoLocked())
	}
	f.mu.RUnlock()
	slices.SortFunc(out, func(a, b ServerInfo) int { return strings.Compare(a.ID, b.ID) })
	return out
}

// Shutdown stops the fleet's goroutines and its SDK API and closes Events,
// leaving every game server running with its state in the KV: a restarted
// cell (a new Fleet on the same KV) re-adopts them, and their results reach
// it. Use Drain to stop the servers too. Servers keep retrying the SDK
// address meanwhile. Events not yet read are dropped (terminal ones are
// re-emitted by the next fleet).
func (f *Fleet) Shutdown(ctx context.Context) error {
	f.stopOnce.Do(func() {
		f.mu.Lock()
		started := f.life != lifeNew
		f.life = lifeClosed
		srv := f.sdkSrv
		f.mu.Unlock()
		f.cancel()
		var errs []error
		if srv != nil {
			if err := srv.Shutdown(ctx); err != nil {
				errs = append(errs, fmt.Errorf("stop SDK API: %w", err))
			}
		}
		done := make(chan struct{})
		go func() { // ends when the fleet's goroutines have, all of which watch runCtx
			f.wg.Wait()
			close(done)
		}()
		select {
		case <-done:
		case <-ctx.Done():
			errs = append(errs, fmt.Errorf("wait for fleet goroutines: %w", ctx.Err()))
		}
		if !started {
			close(f.events.out)
		}
		f.stopErr = errors.Join(errs...)
		f.log.Info("fleet shut down")
	})
	if f.stopErr != nil {
		return fmt.Errorf("shutdown fleet: %w", f.stopErr)
	}
	return nil
}

// Drain stops allocating, stops every idle server, and waits for allocated
// servers to finish their games; when ctx ends first it kills the rest
// (their sessions fail). Then it shuts the fleet down as Shutdown does.
func (f *Fleet) Drain(ctx context.Context) error {
	f.mu.Lock()
	if f.life != lifeRunning {
		f.mu.Unlock()
		return f.Shutdown(ctx)
	}
	f.life = lifeDraining
	var idle []*server
	for _, s := range f.servers {
		if !s.exited && (s.state == StateStarting || s.state == StateReady) {
			f.stopLocked(s, time.Now())
			idle = append(idle, s)
		}
	}
	f.mu.Unlock()
	for _, s := range idle {
		f.save(s)
		f.signal(s, false)
	}
	var errs []error
	if err := f.waitExited(ctx); err != nil {
		f.mu.Lock()
		var left []*server
		for _, s := range f.servers {
			if !s.exited {
				f.decideOutcomeLocked(s, "cell drained", time.Now())
				s.killed = true
				left = append(left, s)
			}
		}
		f.mu.Unlock()
		for _, s := range left {
			f.save(s)
			f.signal(s, true)
		}
		kctx, cancel := context.WithTimeout(context.Background(), drainKillWait)
		defer cancel()
		if err := f.waitExited(kctx); err != nil {
			errs = append(errs, fmt.Errorf("drain: servers still running after SIGKILL: %w", err))
		}
		ctx = kctx
	}
	if err := f.Shutdown(ctx); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// waitExited waits until every server has exited.
func (f *Fleet) waitExited(ctx context.Context) error {
	for {
		f.mu.RLock()
		running := 0
		for _, s := range f.servers {
			if !s.exited {
				running++
			}
		}
		f.mu.RUnlock()
		if running == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%d servers still running: %w", running, ctx.Err())
		case <-f.exits:
		}
	}
}

// poke asks the control loop to reconcile now.
func (f *Fleet) poke() {
	select {
	case f.wake <- struct{}{}:
	default:
	}
}

// signal stops (SIGTERM) or kills s's process, if it has one.
func (f *Fleet) signal(s *server, kill bool) {
	f.mu.RLock()
	proc := s.proc
	f.mu.RUnlock()
	if proc == nil {
		return
	}
	var err error
	if kill {
		err = proc.Kill()
	} else {
		err = proc.Stop()
	}
	if err != nil {
		f.log.Error("signal game server", "server", s.id, "kill", kill, "err", err)
	}
}

// decideOutcomeLocked settles an allocated server's session once: ended if
// it reported results, failed with reason otherwise. It queues the
// terminal event and reports whether it decided.
func (f *Fleet) decideOutcomeLocked(s *server, reason string, now time.Time) bool {
	if s.alloc == nil || s.outcome != nil {
		return false
	}
	if s.results != nil {
		s.outcome = &outcome{Kind: EventSessionEnded, At: now}
	} else {
		s.outcome = &outcome{Kind: EventSessionFailed, Reason: reason, At: now}
		s.keepLog = true
	}
	if f.sessions[s.alloc.SessionID] == s {
		delete(f.sessions, s.alloc.SessionID)
	}
	f.events.push(s.terminalEventLocked(), s)
	return true
}

// delivered is called by the dispatcher once the sink has accepted s's
// terminal event.
func (f *Fleet) delivered(s *server) {
	f.mu.Lock()
	s.outcomeSent = true
	exited := s.exited
	f.mu.Unlock()
	if exited {
		f.remove(s)
		return
	}
	f.save(s)
}

// stopLocked moves s to Shutdown and out of the ready list; the caller
// saves it and sends SIGTERM. It is killed if still running StopGrace later.
func (f *Fleet) stopLocked(s *server, now time.Time) {
	f.unreadyLocked(s)
	s.state = StateShutdown
	s.stopAt = now
	s.notifyLocked()
}

// unreadyLocked removes s from the ready list.
func (f *Fleet) unreadyLocked(s *server) {
	if i := slices.Index(f.ready, s); i >= 0 {
		f.ready = slices.Delete(f.ready, i, i+1)
	}
}

// onExit handles the exit of s's process.
func (f *Fleet) onExit(s *server, reason string) {
	now := time.Now()
	f.mu.Lock()
	if f.life == lifeClosed {
		f.mu.Unlock()
		return
	}
	s.exited = true
	f.unreadyLocked(s)
	expected := s.state == StateShutdown || s.state == StateUnhealthy
	if !expected {
		s.keepLog = true
		if s.state == StateStarting {
			f.startFailures++
			f.nextStartAt = now.Add(startBackoff(f.startFailures))
			f.metrics.failures.WithLabelValues("start_failed").Inc()
		} else {
			f.metrics.failures.WithLabelValues("crash").Inc()
		}
	}
	f.decideOutcomeLocked(s, "server exited: "+reason, now)
	pending := s.outcome != nil && !s.outcomeSent
	f.mu.Unlock()
	lvl := slog.LevelInfo
	if !expected {
		lvl = slog.LevelWarn
	}
	f.log.Log(context.Background(), lvl, "game server exited", "server", s.id, "reason", reason, "expected", expected)
	if pending {
		// Removed once its terminal event is delivered; until then the KV
		// keeps the outcome so a restart re-emits it.
		f.save(s)
	} else {
		f.remove(s)
	}
	select {
	case f.exits <- struct{}{}:
	default:
	}
	f.poke()
}

// remove forgets s: its record, port and (if it ended cleanly) its log.
func (f *Fleet) remove(s *server) {
	f.mu.Lock()
	if f.servers[s.id] == s {
		delete(f.servers, s.id)
		delete(f.ports, s.port)
	}
	if s.alloc != nil && f.sessions[s.alloc.SessionID] == s {
		delete(f.sessions, s.alloc.SessionID)
	}
	f.unreadyLocked(s)
	keepLog := s.keepLog
	f.mu.Unlock()
	f.deleteRecord(s)
	if lb, ok := f.backend.(*LocalBackend); ok && !keepLog {
		lb.removeLog(s.id)
	}
	f.poke()
}
