package loadtest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Bounds of a run over virtual players: a load test always stops by itself
// and never grows without limit.
const (
	// MaxPlayers caps one process's virtual players: a process may open at
	// most 20,000 files here, so larger tests run several generators.
	MaxPlayers = 100_000
	// progressInterval is how often the live progress line is printed.
	progressInterval = 2 * time.Second
	// stopGrace is how long players get to finish their step after the
	// run's deadline before their connections are cut.
	stopGrace = 5 * time.Second
	// DefaultBatch is the telemetry scenario's events per batch: a player's
	// batch may hold 100 events (the cell's limit), and a full batch
	// amortises a request over many events as game clients do.
	DefaultBatch = 100
	// defaultMode is the game mode of the match scenarios.
	defaultMode = "duel"
)

// Scenarios run by Execute, against a cell (and the core it trusts).
const (
	// Auth logs virtual players in again and again through the core.
	Auth Scenario = "auth"
	// Matchmaking measures join → matched on a cell; the matched players
	// then play their match as bots so the fleet frees its servers.
	Matchmaking Scenario = "matchmaking"
	// Journey is a player's whole journey: login, join, match, a real
	// match over WebSockets, and the results as the cell records them.
	Journey Scenario = "journey"
	// Idle holds connected players on the cell's WebSocket, for CCU and
	// memory per player.
	Idle Scenario = "idle"
	// Telemetry floods the cell's telemetry endpoint with batches.
	Telemetry Scenario = "telemetry"
	// Purchase buys the cheapest soft-currency item from the store again
	// and again (a fresh guest once a wallet runs dry).
	Purchase Scenario = "purchase"
)

// Options is one run's whole configuration for Execute.
type Options struct {
	// Target is the global core's base URL (logins, store). Required.
	Target string
	// CellURL is the cell's base URL; required by every scenario but Auth
	// and Purchase.
	CellURL  string
	Scenario Scenario
	// Players is the number of virtual players; zero means 32.
	Players int
	// Ramp spreads the players' start over this long; zero starts them
	// all at once.
	Ramp time.Duration
	// Duration is the whole run, ramp included; zero means 10s.
	Duration time.Duration
	// Mode is the game mode of the match scenarios; empty means "duel".
	Mode string
	// Batch is the telemetry scenario's events per batch; zero means
	// DefaultBatch.
	Batch int
	// SLOs are checked against the report (see ParseSLO).
	SLOs []SLO
	// Progress receives a live progress line every few seconds; nil means
	// none.
	Progress io.Writer
	// SourceAddrs are local addresses to spread connections over (e.g.
	// 127.0.0.2-127.0.0.9), past one address's ephemeral ports; empty
	// means the system's choice.
	SourceAddrs []string
}

func (o *Options) validate() error {
	if o.Players == 0 {
		o.Players = 32
	}
	if o.Duration == 0 {
		o.Duration = 10 * time.Second
	}
	if o.Mode == "" {
		o.Mode = defaultMode
	}
	if o.Batch == 0 {
		o.Batch = DefaultBatch
	}
	if err := checkURL("target", o.Target); err != nil {
		return err
	}
	switch o.Scenario {
	case Auth, Purchase:
	case Matchmaking, Journey, Idle, Telemetry:
		if err := checkURL("cell", o.CellURL); err != nil {
			return err
		}
	default:
		return fmt.Errorf("loadtest: unknown scenario %q (want auth, matchmaking, journey, idle, telemetry or purchase)", o.Scenario)
	}
	switch {
	case o.Players < 1 || o.Players > MaxPlayers:
		return fmt.Errorf("loadtest: players must be 1-%d", MaxPlayers)
	case o.Duration < 0 || o.Duration > MaxDuration:
		return fmt.Errorf("loadtest: duration must be at most %s", MaxDuration)
	case o.Ramp < 0 || o.Ramp > o.Duration:
		return errors.New("loadtest: the ramp must fit in the duration")
	case o.Batch < 1 || o.Batch > 1000:
		return errors.New("loadtest: a telemetry batch holds 1-1000 events")
	}
	for _, a := range o.SourceAddrs {
		if net.ParseIP(a) == nil {
			return fmt.Errorf("loadtest: source address %q is not an IP address", a)
		}
	}
	return nil
}

func checkURL(what, raw string) error {
	u, err := url.ParseRequestURI(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("loadtest: %s URL must be http:// or https:// with a host, got %q", what, raw)
	}
	return nil
}

// run is one Execute's shared state.
type run struct {
	opts      Options
	rec       *Recorder
	http      *http.Client
	connected atomic.Int64 // players holding a connection (Idle)
	events    atomic.Int64 // telemetry events accepted
	matches   atomic.Int64 // journeys or matches completed
	nextSrc   atomic.Uint64
}

// Execute runs the scenario and returns its report, with the SLO verdicts
// filled in. The error is about the run itself (bad options, cancelled);
// failed requests and breached SLOs are in the report.
func Execute(ctx context.Context, opts Options) (*Result, error) {
	if err := opts.validate(); err != nil {
		return nil, err
	}
	r := &run{opts: opts, rec: NewRecorder(opts.Duration)}
	r.http = &http.Client{Timeout: requestTimeout, Transport: &http.Transport{
		DialContext: r.dial, MaxIdleConns: opts.Players, MaxIdleConnsPerHost: opts.Players, IdleConnTimeout: 90 * time.Second,
	}}
	defer r.http.CloseIdleConnections()
	play := r.scenario()

	runCtx, cancel := context.WithTimeout(ctx, opts.Duration)
	defer cancel()
	// Players may finish their current step after the deadline; the hard
	// context cuts whatever is left after stopGrace.
	hardCtx, hardCancel := context.WithTimeout(ctx, opts.Duration+stopGrace)
	defer hardCancel()

	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); r.sample(runCtx) }()
	started := time.Now()
	for i := range opts.Players {
		if opts.Ramp > 0 && opts.Players > 1 {
			at := started.Add(opts.Ramp * time.Duration(i) / time.Duration(opts.Players-1))
			if !sleepUntil(runCtx, at) {
				break
			}
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			play(runCtx, hardCtx, i)
		}()
	}
	wg.Wait()
	elapsed := time.Since(started)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return r.report(elapsed), nil
}

func sleepUntil(ctx context.Context, at time.Time) bool {
	d := time.Until(at)
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// dial spreads connections over the configured source addresses.
func (r *run) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	d := net.Dialer{Timeout: requestTimeout, KeepAlive: 30 * time.Second}
	if n := len(r.opts.SourceAddrs); n > 0 {
		src := r.opts.SourceAddrs[int(r.nextSrc.Add(1)%uint64(n))]
		d.LocalAddr = &net.TCPAddr{IP: net.ParseIP(src)}
	}
	return d.DialContext(ctx, network, addr)
}

// sample records the gauges once a second and prints progress.
func (r *run) sample(ctx context.Context) {
	tick := time.NewTicker(seriesInterval)
	defer tick.Stop()
	last := time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		r.rec.Gauge("connected_players", float64(r.connected.Load()))
		if rss, ok := r.cellRSS(ctx); ok {
			r.rec.Gauge("cell_rss_bytes", rss)
		}
		if r.opts.Progress != nil && time.Since(last) >= progressInterval {
			last = time.Now()
			r.printProgress()
		}
	}
}

func (r *run) printProgress() {
	steps, _ := r.rec.snapshot(time.Since(r.rec.start))
	var b strings.Builder
	fmt.Fprintf(&b, "[%5.1fs] %s", time.Since(r.rec.start).Seconds(), r.opts.Scenario)
	if n := r.connected.Load(); n > 0 {
		fmt.Fprintf(&b, " connected=%d", n)
	}
	for _, s := range steps {
		fmt.Fprintf(&b, " | %s n=%d err=%d p99=%.1fms", s.Name, s.Count, s.Errors, s.Latency.P99)
	}
	fmt.Fprintln(r.opts.Progress, b.String())
}
