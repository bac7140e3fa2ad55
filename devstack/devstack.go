// Package devstack runs Atoll's whole world on one machine in one process (a
// throwaway PostgreSQL, the global core with its hub, and every region of a
// topology with its cell, relay and game-server fleet) and plays bots in it.
package devstack

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/atollgg/atoll/cell"
	"github.com/atollgg/atoll/contract"
	"github.com/atollgg/atoll/global"
	"github.com/atollgg/atoll/global/hub"
	"github.com/atollgg/atoll/global/payments"
	"github.com/atollgg/atoll/internal/authn"
	"github.com/atollgg/atoll/internal/obs"
	"github.com/atollgg/atoll/internal/pglocal"
	"github.com/atollgg/atoll/relay"
)

// Development-only credentials: the stack listens on loopback and is thrown
// away at exit, so fixed values keep the demo reproducible.
const (
	DevAdminToken = "dev-admin-token-change-me"
	devCellToken  = "dev-cell-token-change-me"
	devLeafSecret = "dev-leaf-secret-change-me" // every cell's leaf password at the hub
)

// stopGrace bounds shutting the stack down; drainGrace is the part of it
// running games get before their servers are killed.
const (
	stopGrace  = 15 * time.Second
	drainGrace = 3 * time.Second
	// devWarmServers keeps one Ready game server per cell: three regions'
	// fleets fit a 2-core laptop, and the fleet boots more on demand.
	devWarmServers = 1
	// devMaxServers caps each cell's fleet for the same reason.
	devMaxServers = 8
	// relayProbeInterval: without Consul, relays probe the cells' /readyz
	// this often, so a stopped cell leaves routing within two seconds.
	relayProbeInterval = time.Second
)

// DefaultTopologyDir is the example world, relative to the repository root
// (where `make demo` runs).
const DefaultTopologyDir = "topology/example"

// Config configures Start.
type Config struct {
	// GlobalAddr is the global core's listen address; empty means
	// 127.0.0.1:8080, "127.0.0.1:0" a free port.
	GlobalAddr string
	// TopologyDir is the world to run (its regions, cells and relays; the
	// addresses are replaced by free loopback ports); empty means
	// DefaultTopologyDir.
	TopologyDir string
	// DatabaseURL, when set, is used instead of a throwaway PostgreSQL.
	DatabaseURL string
	// DataDir holds keys, the topology and the cells' JetStream; empty
	// means a temporary directory removed by Stop.
	DataDir string
	// GameServerCommand starts a game server; empty means this binary's
	// `gameserver` subcommand (right for `atoll dev`; tests pass a built one).
	GameServerCommand []string
	// GameServerEnv is extra environment for game servers; nil means a
	// 15 s match time limit, so bots play many short matches.
	GameServerEnv []string
	// HumanRegion is where a person's browser (127.0.0.1) lives for the
	// simulated distance; empty means the first region with "eu" in its
	// id, else the first region.
	HumanRegion string
	// NoForward makes players connect to game servers directly; zero
	// means play goes through each region's relay.
	NoForward bool
	// NoConsul runs without Consul even when a consul binary is found
	// (relays then probe the cells' /readyz); zero means Consul when
	// available (see consulBinary).
	NoConsul bool
	// Log is the logger; nil discards logs.
	Log *slog.Logger
}

// Stack is a running local world.
type Stack struct {
	Global *global.Server
	Cells  []*cell.Cell
	Relays []*relay.Relay
	topo   *devTopology
	dist   *distances
	fwd    *forwarders
	consul *consulAgent
	pg     *pglocal.Server
	tmp    string
}

// GlobalURL is the global core's base URL.
func (s *Stack) GlobalURL() string { return s.Global.URL() }

// CellURL is the first cell's base URL.
func (s *Stack) CellURL() string { return s.Cells[0].URL() }

// Start runs PostgreSQL (unless cfg.DatabaseURL is set), the global core
// with its NATS hub, and every region of the topology: a cell (a leaf of the
// hub) with a warm fleet, and its relays behind forwarders simulating the
// distance between players' homes and the region.
func Start(ctx context.Context, cfg Config) (_ *Stack, err error) {
	if cfg.GlobalAddr == "" {
		cfg.GlobalAddr = "127.0.0.1:8080"
	}
	if cfg.TopologyDir == "" {
		cfg.TopologyDir = DefaultTopologyDir
	}
	if cfg.Log == nil {
		cfg.Log = obs.Discard()
	}
	s := &Stack{fwd: newForwarders()}
	defer func() {
		if err != nil {
			s.Stop()
		}
	}()
	if cfg.DataDir == "" {
		if s.tmp, err = os.MkdirTemp("", "atoll-dev-"); err != nil {
			return nil, fmt.Errorf("dev data dir: %w", err)
		}
		cfg.DataDir = s.tmp
	}
	globalAddr := cfg.GlobalAddr
	if strings.HasSuffix(globalAddr, ":0") {
		globalAddr = ""
	}
	if s.topo, err = writeTopology(cfg.TopologyDir, filepath.Join(cfg.DataDir, "topology"), globalAddr); err != nil {
		return nil, err
	}
	human := cfg.HumanRegion
	if human == "" {
		human = s.topo.world.Regions[0].ID
		for _, r := range s.topo.world.Regions {
			if strings.Contains(r.ID, "eu") {
				human = r.ID
				break
			}
		}
	}
	s.dist = newDistances(s.topo.world, human)
	consulAddr := ""
	if bin := consulBinary(); bin != "" && !cfg.NoConsul {
		if s.consul, err = startConsul(ctx, bin, filepath.Join(cfg.DataDir, "consul")); err != nil {
			return nil, err
		}
		consulAddr = s.consul.Addr
	}
	dbURL := cfg.DatabaseURL
	if dbURL == "" {
		if s.pg, err = pglocal.Start(ctx, pglocal.Options{}); err != nil {
			return nil, fmt.Errorf("start PostgreSQL: %w", err)
		}
		dbURL = s.pg.URL
	}
	tokens, leafs := authn.Secrets{}, map[string]string{}
	var origins []string
	for _, c := range s.topo.cells {
		tokens[c.id] = devCellToken
		leafs[c.id] = devLeafSecret
		origins = append(origins, "http://"+c.addr)
	}
	leaderboards := devLeaderboards()
	s.Global, err = global.New(ctx, global.Config{
		DatabaseURL: dbURL, HTTPAddr: s.topo.global, PublicURL: "http://" + s.topo.global,
		DataDir: filepath.Join(cfg.DataDir, "global"), AdminToken: DevAdminToken, CellTokens: tokens,
		CORSOrigins: origins, Log: cfg.Log, TopologyDir: s.topo.dir, Leaderboards: leaderboards, ConsulAddr: consulAddr,
		// Fake payments are what a local stack wants; never in production.
		Payments: payments.Settings{Provider: "dev"},
		Hub:      &hub.Config{LeafHost: "127.0.0.1", LeafPort: s.topo.leaf, Cells: leafs},
	})
	if err != nil {
		return nil, fmt.Errorf("global core: %w", err)
	}
	if err = s.Global.Start(ctx); err != nil {
		return nil, fmt.Errorf("global core: %w", err)
	}
	gameEnv := cfg.GameServerEnv
	if gameEnv == nil {
		gameEnv = []string{"ATOLL_GAME_DURATION=15s"}
	}
	for i, dc := range s.topo.cells {
		cc := cell.Config{
			CellID: dc.id, Region: dc.region, HTTPAddr: dc.addr, PublicURL: "http://" + dc.addr,
			GlobalURL: coreURLForCell(s.Global.Addr(), s.Global.URL()), GlobalIssuer: s.Global.URL(),
			DataDir: filepath.Join(cfg.DataDir, "cell-"+dc.id), ServiceToken: devCellToken,
			GameServerCommand: cfg.GameServerCommand, GameServerEnv: gameEnv, Log: cfg.Log.With("cell", dc.id),
			HubURL: s.Global.Hub.LeafURL(), HubSecret: devLeafSecret, Leaderboards: leaderboards,
			WarmServers: devWarmServers, MaxServers: devMaxServers, ConsulAddr: consulAddr,
			// Each cell its own port range, so fleets never race for a port.
			GamePortMin: 17700 + 100*i, GamePortMax: 17799 + 100*i,
		}
		if !cfg.NoForward {
			cc.ForwardRelay, cc.ForwardKeyFile = dc.relay, dc.keyFile
		}
		c, err := cell.New(cc)
		if err != nil {
			return nil, fmt.Errorf("cell %s: %w", dc.id, err)
		}
		if err = c.Start(ctx); err != nil {
			return nil, fmt.Errorf("cell %s: %w", dc.id, err)
		}
		s.Cells = append(s.Cells, c)
	}
	for _, dr := range s.topo.relays {
		rc := relay.Config{RelayID: dr.id, TopologyDir: s.topo.dir, HTTPAddr: dr.httpAddr, BeaconAddr: dr.beacon,
			CellProbeInterval: relayProbeInterval, BeaconWorkers: 1, Log: cfg.Log.With("relay", dr.id), ConsulAddr: consulAddr}
		if !cfg.NoForward {
			rc.Forward.KeyFile = s.topo.cells[dr.index].keyFile
		}
		r, err := relay.New(rc)
		if err != nil {
			return nil, fmt.Errorf("relay %s: %w", dr.id, err)
		}
		if err = r.Start(ctx); err != nil {
			return nil, fmt.Errorf("relay %s: %w", dr.id, err)
		}
		s.Relays = append(s.Relays, r)
		region := dr.index
		delay := func(from net.Addr) time.Duration { return s.dist.oneWay[s.dist.home(from)][region] }
		if err := s.fwd.tcp(dr.publicHTTP, dr.httpAddr, delay); err != nil {
			return nil, fmt.Errorf("relay %s front: %w", dr.id, err)
		}
		if err := s.fwd.udp(dr.publicBeacon, dr.beacon, delay); err != nil {
			return nil, fmt.Errorf("relay %s beacon front: %w", dr.id, err)
		}
	}
	if s.consul != nil {
		// Routing follows Consul's checks: wait until every cell passes,
		// so the first players are not told there is no healthy cell.
		if err := s.consul.waitPassing(ctx, "atoll-cell", len(s.Cells)); err != nil {
			return nil, fmt.Errorf("cells healthy in consul: %w", err)
		}
	}
	return s, nil
}

// devLeaderboards are the boards the dev world keeps: a regional one on
// every cell and a global one on the core.
func devLeaderboards() []contract.LeaderboardDefinition {
	return []contract.LeaderboardDefinition{
		{Name: "best_score", Operator: "best", Scope: "regional", Field: "score"},
		{Name: "weekly_kills", Operator: "increment", Scope: "global", Reset: "weekly", Field: "kills"},
	}
}

// Stop shuts everything down, game servers included, and removes
// temporary data.
func (s *Stack) Stop() error {
	ctx, cancel := context.WithTimeout(context.Background(), stopGrace)
	defer cancel()
	var errs []error
	for _, r := range s.Relays {
		errs = append(errs, r.Shutdown(ctx))
	}
	if s.fwd != nil {
		s.fwd.Close()
	}
	for _, c := range s.Cells {
		// A production cell leaves its game servers running for the next
		// cell process to re-adopt; a dev stack is thrown away, so it takes
		// its game servers with it.
		dctx, dcancel := context.WithTimeout(ctx, drainGrace)
		errs = append(errs, c.Fleet.Drain(dctx))
		dcancel()
		errs = append(errs, c.Shutdown(ctx))
	}
	if s.Global != nil {
		errs = append(errs, s.Global.Shutdown(ctx))
	}
	if s.consul != nil {
		s.consul.Stop()
	}
	if s.pg != nil {
		errs = append(errs, s.pg.Stop())
	}
	if s.tmp != "" {
		_ = os.RemoveAll(s.tmp)
	}
	return errors.Join(errs...)
}

// Run's timings.
const (
	// DefaultProgressEvery paces the live progress table.
	DefaultProgressEvery = 3 * time.Second
	// finishGrace bounds waiting for bots' rounds in progress once the
	// run's duration is over: one round is a 15 s match and its rewards.
	finishGrace = roundTimeout
)

// RunConfig configures Run.
type RunConfig struct {
	Config
	// Bots is how many bots play; zero means none. Bots live in pairs per
	// region (bot i in region (i/2) mod regions), so every one has an
	// opponent nearby.
	Bots int
	// Duration ends the run (bots finish their round, the summary is
	// printed, everything stops); zero means until ctx ends.
	Duration time.Duration
	// Walk prints the account/economy walk against the core first.
	Walk bool
	// HumanFillAfter: a ticket waiting this long on a cell (a person in the
	// browser client) gets a bot opponent; zero means
	// DefaultHumanFillAfter, negative never.
	HumanFillAfter time.Duration
	// ProgressEvery paces the live table; zero means DefaultProgressEvery.
	ProgressEvery time.Duration
	// Out receives the progress and summary; nil means stdout.
	Out io.Writer
	// BeforeStop, if set, sees the world once the bots are done and before
	// it stops (tests scrape its metrics).
	BeforeStop func(*Stack)
}

// Run starts the world, plays cfg.Bots bots in it with a live progress
// table, and stops at ctx's end or after cfg.Duration, returning what the
// bots did.
func Run(ctx context.Context, cfg RunConfig) (Summary, error) {
	out := cfg.Out
	if out == nil {
		out = os.Stdout
	}
	if cfg.ProgressEvery <= 0 {
		cfg.ProgressEvery = DefaultProgressEvery
	}
	if cfg.HumanFillAfter == 0 {
		cfg.HumanFillAfter = DefaultHumanFillAfter
	}
	fmt.Fprintln(out, "Starting the world: PostgreSQL, the global core and its NATS hub, and every region (cell, relay, game servers)…")
	t0 := time.Now()
	s, err := Start(ctx, cfg.Config)
	if err != nil {
		return Summary{}, err
	}
	defer s.Stop()
	fmt.Fprintf(out, "Up in %s.\n\n", time.Since(t0).Round(100*time.Millisecond))
	s.printURLs(out)
	if cfg.Walk {
		if err := Walk(ctx, s.GlobalURL(), "", out); err != nil {
			return Summary{}, fmt.Errorf("walk: %w", err)
		}
	}
	stats := newStats()
	bctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	regions := len(s.topo.world.Regions)
	for i := range cfg.Bots {
		b := newBot(i, (i/2)%regions, s.GlobalURL(), stats)
		wg.Add(1)
		go func() { defer wg.Done(); b.run(bctx, stop) }()
	}
	if cfg.HumanFillAfter > 0 {
		wg.Add(1)
		go func() { defer wg.Done(); s.fillHumans(bctx, stop, cfg.HumanFillAfter, stats) }()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	var end <-chan time.Time
	if cfg.Duration > 0 {
		end = time.After(cfg.Duration)
	}
	tick := time.NewTicker(cfg.ProgressEvery)
	defer tick.Stop()
	started := time.Now()
	var finishBy <-chan time.Time
	for running := true; running; {
		select {
		case <-tick.C:
			printProgress(out, time.Since(started), stats.Snapshot())
		case <-end:
			end = nil
			close(stop)
			fmt.Fprintln(out, "Time is up: bots finish their matches…")
			finishBy = time.After(finishGrace)
		case <-finishBy:
			cancel()
		case <-ctx.Done():
			cancel()
			<-done
			running = false
		case <-done:
			running = false
		}
	}
	sum := stats.Snapshot()
	printSummary(out, time.Since(started), sum)
	if cfg.BeforeStop != nil {
		cfg.BeforeStop(s)
	}
	return sum, nil
}

// printURLs shows where a person can look.
func (s *Stack) printURLs(out io.Writer) {
	fmt.Fprintf(out, "Global core:  %s   (metrics %s/metrics, topology %s/topology)\n", s.GlobalURL(), s.GlobalURL(), s.GlobalURL())
	for i, c := range s.Cells {
		dc := s.topo.cells[i]
		fmt.Fprintf(out, "Region %-9s cell %s   play in a browser: %s/play/   metrics %s/metrics\n", dc.region, dc.id, c.URL(), c.URL())
	}
	for i, r := range s.Relays {
		dr := s.topo.relays[i]
		fmt.Fprintf(out, "             relay %s  %s (beacon udp %s)   metrics %s/metrics\n", dr.id, "http://"+dr.publicHTTP, dr.publicBeacon, r.URL())
	}
	fmt.Fprintln(out, "\nSimulated one-way distance (players' home → region):")
	for i, from := range s.dist.regions {
		fmt.Fprintf(out, "  %-9s", from)
		for j, to := range s.dist.regions {
			fmt.Fprintf(out, "  %s %3d ms", to, s.dist.oneWay[i][j].Milliseconds())
		}
		if i == s.dist.human {
			fmt.Fprint(out, "   ← your browser lives here")
		}
		fmt.Fprintln(out)
	}
	if s.consul != nil {
		fmt.Fprintf(out, "Consul:       http://%s/ui/ (cells and relays registered; routing follows their checks)\n", s.consul.Addr)
	} else {
		fmt.Fprintln(out, "Consul:       none (no consul binary: `bash scripts/install-deps.sh --consul` builds one); relays probe the cells")
	}
	fmt.Fprintln(out, "\nCtrl-C stops everything, game servers included.")
	fmt.Fprintln(out)
}

func printProgress(out io.Writer, el time.Duration, s Summary) {
	fmt.Fprintf(out, "[%s] ", el.Round(time.Second))
	for _, r := range regionsOf(s.Matches, s.Playing, s.Rounds) {
		fmt.Fprintf(out, "%s: %d playing, %d matches, queue %s | ", r, s.Playing[r], s.Matches[r], since(s.AvgQueue[r]))
	}
	fmt.Fprintf(out, "rewarded %d, purchases %d, errors %d\n", s.Rewarded, s.Purchases, s.TotalErrors())
}

func printSummary(out io.Writer, el time.Duration, s Summary) {
	fmt.Fprintf(out, "\nSummary after %s:\n", el.Round(time.Second))
	for _, r := range regionsOf(s.Matches, s.Rounds) {
		fmt.Fprintf(out, "  %-9s matches %3d  bot rounds %3d  average queue %s\n", r, s.Matches[r], s.Rounds[r], since(s.AvgQueue[r]))
	}
	fmt.Fprintf(out, "  rewarded rounds %d, leaderboard reads %d, purchases %d, errors %d\n", s.Rewarded, s.LeaderboardReads, s.Purchases, s.TotalErrors())
	if s.LastError != "" {
		fmt.Fprintf(out, "  last error: %s\n", s.LastError)
	}
}

// coreURLForCell is where the in-process cell reaches the core: over
// loopback when the core listens on every interface (0.0.0.0 or ::), since
// the cell accepts plain http for the core only on loopback.
func coreURLForCell(addr, public string) string {
	host, port, err := net.SplitHostPort(addr)
	if ip, perr := netip.ParseAddr(host); err == nil && perr == nil && ip.IsUnspecified() {
		return "http://" + net.JoinHostPort("127.0.0.1", port)
	}
	return public
}
