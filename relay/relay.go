package relay

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/atollgg/atoll/internal/httpx"
	"github.com/atollgg/atoll/internal/obs"
	"github.com/atollgg/atoll/internal/tokens"
	"github.com/atollgg/atoll/relay/beacon"
	"github.com/atollgg/atoll/relay/discovery"
	"github.com/atollgg/atoll/relay/routing"
	"github.com/atollgg/atoll/topology"
	"github.com/prometheus/client_golang/prometheus"
)

// Audience is the "aud" of the global core's access tokens.
const Audience = "atoll"

// deregisterTimeout bounds leaving Consul at shutdown, so a dead agent does
// not hold the shutdown up.
const deregisterTimeout = 5 * time.Second

// Config is a relay's whole configuration.
type Config struct {
	// RelayID is this relay's id; it must be declared in the topology,
	// which gives its region, beacon address and public URL. Required.
	RelayID string
	// TopologyDir is the topology folder. Required.
	TopologyDir string
	// HTTPAddr is where /ping, /route, /topology, /play and the probes are
	// served. Required.
	HTTPAddr string
	// BeaconAddr is the UDP address the beacon binds; zero means the
	// relay's beacon address in the topology.
	BeaconAddr string
	// PublicURL is the relay's public base URL; zero means its url in the
	// topology.
	PublicURL string
	// ConsulAddr is the Consul agent to register with and to follow cells'
	// health on; zero means no Consul (every declared cell is healthy).
	ConsulAddr string
	// ConsulToken is the Consul ACL token; zero means none.
	ConsulToken string
	// CellProbeInterval, without Consul, probes the declared cells'
	// /readyz this often; zero means every declared cell is healthy.
	CellProbeInterval time.Duration
	// GlobalIssuer is the "iss" of players' access tokens; zero means the
	// core's api_url in the topology.
	GlobalIssuer string
	// DataDir keeps the last good JWKS, so a relay restarted while the
	// core is down still verifies tokens; zero means no disk cache.
	DataDir string
	// BeaconWorkers is the beacon's socket count; zero means GOMAXPROCS.
	BeaconWorkers int
	// Forward configures /play; zero means forwarding is off.
	Forward ForwardConfig
	// Log is the logger; zero means JSON to stderr.
	Log *slog.Logger
}

// Validate checks the required fields.
func (c Config) Validate() error {
	var errs []error
	if c.RelayID == "" {
		errs = append(errs, errors.New("relay id is required"))
	}
	if c.TopologyDir == "" {
		errs = append(errs, errors.New("topology folder is required"))
	}
	if c.HTTPAddr == "" {
		errs = append(errs, errors.New("HTTP address is required"))
	}
	return errors.Join(errs...)
}

// Relay is a running relay.
type Relay struct {
	cfg    Config
	log    *slog.Logger
	region string

	Routing  *routing.Routing
	Beacon   *beacon.Beacon
	Registry *prometheus.Registry
	Health   *obs.Health

	http    *httpx.Server
	consul  *discovery.Registration
	forward *forwarder
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	started atomic.Bool
	stopped atomic.Bool
}

// New checks cfg against the topology and binds nothing yet.
func New(cfg Config) (*Relay, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("relay config: %w", err)
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.NewJSONHandler(os.Stderr, nil))
	}
	return &Relay{cfg: cfg, log: cfg.Log.With("service", "relay", "relay_id", cfg.RelayID)}, nil
}

// findRelay returns the relay's declaration and region.
func findRelay(w *topology.World, id string) (*topology.Region, *topology.Relay, bool) {
	for i := range w.Regions {
		r := &w.Regions[i]
		for j := range r.Relays {
			if r.Relays[j].ID == id {
				return r, &r.Relays[j], true
			}
		}
	}
	return nil, nil, false
}

// Start loads the topology, binds the beacon and the HTTP server, and
// registers with Consul. On error everything started is stopped.
func (r *Relay) Start(ctx context.Context) (err error) {
	if r.started.Swap(true) {
		return errors.New("relay: already started")
	}
	defer func() {
		if err != nil {
			_ = r.Shutdown(context.WithoutCancel(ctx))
		}
	}()
	world, err := topology.Load(r.cfg.TopologyDir)
	if err != nil {
		return fmt.Errorf("topology %s:\n%w", r.cfg.TopologyDir, err)
	}
	region, decl, ok := findRelay(world, r.cfg.RelayID)
	if !ok {
		return fmt.Errorf("relay %q is not declared in the topology %s", r.cfg.RelayID, r.cfg.TopologyDir)
	}
	r.region = region.ID
	r.log = r.log.With("region", region.ID)
	if r.cfg.BeaconAddr == "" {
		r.cfg.BeaconAddr = decl.Beacon
	}
	if r.cfg.PublicURL == "" {
		r.cfg.PublicURL = decl.URL
	}
	if r.cfg.GlobalIssuer == "" {
		r.cfg.GlobalIssuer = world.Core.APIURL
	}
	jwks := world.Core.JWKSURL
	if jwks == "" {
		jwks = world.Core.APIURL + "/.well-known/jwks.json"
	}
	r.Registry = obs.NewRegistry()
	r.Health = obs.NewHealth()
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	r.cancel = cancel

	keys, err := r.remoteKeys(jwks, "global-jwks.json")
	if err != nil {
		return err
	}
	fctx, fcancel := context.WithTimeout(ctx, tokens.FetchTimeout)
	_ = keys.Refresh(fctx) // logged; the disk cache or a later fetch stands in
	fcancel()
	r.wg.Add(1)
	go func() { defer r.wg.Done(); keys.Run(runCtx) }()
	verifier, err := tokens.NewVerifier(tokens.VerifierConfig{Keys: keys, Issuer: r.cfg.GlobalIssuer, Audience: Audience})
	if err != nil {
		return err
	}
	if r.Routing, err = routing.New(routing.Config{
		TopologyDir: r.cfg.TopologyDir, ConsulAddr: r.cfg.ConsulAddr, ConsulToken: r.cfg.ConsulToken,
		CellProbeInterval: r.cfg.CellProbeInterval, Verifier: verifier, Log: r.log,
	}); err != nil {
		return err
	}
	r.wg.Add(1)
	go func() { defer r.wg.Done(); r.Routing.Run(runCtx) }()

	// The forwarder exists before the beacon runs: the beacon reads its
	// load from the first probe on.
	if r.cfg.Forward.Enabled() {
		if r.forward, err = newForwarder(r.cfg.Forward, r.Routing.Topology.World, region.ID, r.remoteKeys, r.Registry, r.log); err != nil {
			return err
		}
	}
	if r.Beacon, err = beacon.New(beacon.Config{
		Addr: r.cfg.BeaconAddr, RelayID: r.cfg.RelayID, RegionID: region.ID, Workers: r.cfg.BeaconWorkers,
		Load: r.load, Registry: r.Registry, Log: r.log,
	}); err != nil {
		return err
	}
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		if err := r.Beacon.Run(runCtx); err != nil {
			r.log.Error("beacon stopped", "err", err)
		}
	}()

	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", r.Health.Live)
	mux.HandleFunc("GET /readyz", r.Health.Ready)
	mux.Handle("GET /metrics", obs.MetricsHandler(r.Registry))
	mux.Handle("GET "+beacon.PathPing, beacon.PingHandler(beacon.PingConfig{RelayID: r.cfg.RelayID, RegionID: region.ID, Load: r.load}))
	r.Routing.Routes(mux)
	if r.forward != nil {
		r.forward.routes(mux)
		r.wg.Add(1)
		go func() { defer r.wg.Done(); r.forward.run(runCtx) }()
	}
	metrics := obs.NewHTTPMetrics(r.Registry, "relay")
	handler := httpx.Recover(r.log, httpx.AccessLog(r.log, metrics.Wrap(httpx.JSONFallback(mux))))
	if r.http, err = httpx.Listen(r.cfg.HTTPAddr, handler); err != nil {
		return err
	}
	r.http.Start()

	if r.cfg.ConsulAddr != "" {
		reg, err := discovery.NewRegistration(discovery.RegistrationConfig{
			ConsulAddr: r.cfg.ConsulAddr, Token: r.cfg.ConsulToken, RelayID: r.cfg.RelayID, Region: region.ID,
			PublicURL: r.cfg.PublicURL, Beacon: decl.Beacon, CheckURL: "http://" + dialable(r.http.Addr()) + "/readyz",
		})
		if err != nil {
			return err
		}
		if err := reg.Register(ctx); err != nil {
			return err
		}
		r.consul = reg
	}
	r.log.Info("relay started", "http", r.http.Addr(), "beacon", r.Beacon.Addr().String(),
		"public_url", r.cfg.PublicURL, "forwarding", r.forward != nil, "consul", r.cfg.ConsulAddr != "")
	return nil
}

// remoteKeys is a JWKS fetched from url, cached in DataDir/cacheName.
func (r *Relay) remoteKeys(url, cacheName string) (*tokens.RemoteKeySet, error) {
	cache := ""
	if r.cfg.DataDir != "" {
		cache = filepath.Join(r.cfg.DataDir, cacheName)
	}
	return tokens.NewRemoteKeySet(tokens.RemoteConfig{URL: url, CachePath: cache, Logger: r.log})
}

// load is the beacon's load hint: the forwarded connections' share of
// their limit, or 0 without forwarding.
func (r *Relay) load() uint8 {
	if r.forward == nil {
		return 0
	}
	return r.forward.load()
}

// Region is the relay's region (after Start).
func (r *Relay) Region() string { return r.region }

// Addr is the bound HTTP address (after Start).
func (r *Relay) Addr() string { return r.http.Addr() }

// URL is the bound HTTP base URL (after Start).
func (r *Relay) URL() string { return "http://" + dialable(r.http.Addr()) }

// Shutdown leaves Consul, stops serving, closes forwarded connections and
// stops the beacon and the watchers.
func (r *Relay) Shutdown(ctx context.Context) error {
	if r.stopped.Swap(true) {
		return nil
	}
	var errs []error
	if r.Health != nil {
		r.Health.SetDraining()
	}
	if r.consul != nil {
		dctx, cancel := context.WithTimeout(ctx, deregisterTimeout)
		errs = append(errs, r.consul.Deregister(dctx))
		cancel()
	}
	if r.forward != nil {
		r.forward.close()
	}
	if r.http != nil {
		errs = append(errs, r.http.Shutdown(ctx))
	}
	if r.cancel != nil {
		r.cancel()
	}
	r.wg.Wait()
	return errors.Join(errs...)
}
