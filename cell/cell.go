package cell

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/atollgg/atoll/cell/bus"
	"github.com/atollgg/atoll/cell/fleet"
	"github.com/atollgg/atoll/cell/leaderboard"
	"github.com/atollgg/atoll/cell/matchmaker"
	"github.com/atollgg/atoll/cell/matchmaking"
	"github.com/atollgg/atoll/cell/ratings"
	"github.com/atollgg/atoll/cell/registry"
	"github.com/atollgg/atoll/cell/sessions"
	"github.com/atollgg/atoll/contract"
	"github.com/atollgg/atoll/gameserver/webclient"
	"github.com/atollgg/atoll/internal/httpx"
	"github.com/atollgg/atoll/internal/obs"
	"github.com/atollgg/atoll/internal/tokens"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
)

// Audience is the "aud" of the global core's access tokens.
const Audience = "atoll"

// Timings of start and shutdown.
const (
	// startTimeout bounds Start: the bus recovers its store, the fleet
	// re-adopts its servers and matchmaking restores its tickets.
	startTimeout = 2 * time.Minute
	// deregisterTimeout bounds leaving Consul at shutdown, so a dead agent
	// does not hold the shutdown up.
	deregisterTimeout = 5 * time.Second
)

// FleetBucket is the KV bucket of the fleet's state.
const FleetBucket = "cell_fleet"

// Cell is a regional cell.
type Cell struct {
	cfg Config
	log *slog.Logger

	// Set by Start.
	Bus         *bus.Bus
	Fleet       *fleet.Fleet
	Matchmaking *matchmaking.Service
	Sessions    *sessions.Store
	ConnectKeys *tokens.KeyRing
	Registry    *prometheus.Registry
	Health      *obs.Health
	// Leaderboards are the regional boards (leaderboards.go).
	Leaderboards *leaderboard.Service

	modes     []matchmaker.Mode
	keysKnown atomic.Bool // the global core's JWKS is known (fetched or cached)
	http      *httpx.Server
	handler   http.Handler
	consul    *registry.Registration
	publicURL string

	mu      sync.Mutex // guards following
	started bool
	stopped bool
	cancel  context.CancelFunc
	wg      sync.WaitGroup
}

// New checks cfg and loads the modes; Start brings the cell up.
func New(cfg Config) (*Cell, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("cell config: %w", err)
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.NewJSONHandler(os.Stderr, nil))
	}
	if cfg.GlobalIssuer == "" {
		cfg.GlobalIssuer = cfg.GlobalURL
	}
	if cfg.WarmServers == 0 {
		cfg.WarmServers = DefaultWarmServers
	}
	c := &Cell{cfg: cfg, log: cfg.Log.With("service", "cell", "cell_id", cfg.CellID)}
	switch {
	case cfg.ModesFile != "":
		modes, err := LoadModes(cfg.ModesFile)
		if err != nil {
			return nil, err
		}
		c.modes = modes
	case cfg.Modes != nil:
		c.modes = cfg.Modes
	default:
		c.modes = matchmaker.DefaultModes()
	}
	return c, nil
}

// Start brings the cell up: the bus and its buckets, the keys, the fleet,
// matchmaking, the HTTP API and the Consul registration. On error,
// everything started is stopped again.
func (c *Cell) Start(ctx context.Context) (err error) {
	c.mu.Lock()
	if c.started {
		c.mu.Unlock()
		return errors.New("cell: already started")
	}
	c.started = true
	c.mu.Unlock()
	ctx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()
	defer func() {
		if err != nil {
			sctx, scancel := context.WithTimeout(context.WithoutCancel(ctx), deregisterTimeout*4)
			_ = c.Shutdown(sctx)
			scancel()
		}
	}()
	runCtx, runCancel := context.WithCancel(context.WithoutCancel(ctx))
	c.cancel = runCancel
	if err := os.MkdirAll(c.cfg.DataDir, 0o700); err != nil {
		return fmt.Errorf("cell data dir: %w", err)
	}
	c.Registry = obs.NewRegistry()
	c.Health = obs.NewHealth()

	c.Bus, err = bus.Start(ctx, bus.Config{
		CellID: c.cfg.CellID, DataDir: c.cfg.DataDir, ClientHost: c.cfg.NATSHost, ClientPort: c.cfg.NATSPort,
		HubURL: c.cfg.HubURL, Log: c.log,
		ClientUser: c.cfg.NATSUser, ClientPassword: c.cfg.NATSPassword, // bus
		HubSecret: c.cfg.HubSecret, HubCreds: c.cfg.HubCreds, HubTLS: c.cfg.HubTLS, // bus
	})
	if err != nil {
		return err
	}
	c.Health.Add("nats", c.Bus.Ready)
	ticketsKV, err := c.Bus.KeyValue(ctx, matchmaking.TicketBucketConfig())
	if err != nil {
		return err
	}
	sessionsKV, err := c.Bus.KeyValue(ctx, sessions.BucketConfig())
	if err != nil {
		return err
	}
	fleetKV, err := c.Bus.KeyValue(ctx, jetstream.KeyValueConfig{Bucket: FleetBucket, Description: "game-server fleet", History: 1})
	if err != nil {
		return err
	}
	c.Sessions = sessions.NewStore(sessionsKV)
	// The fleet's session events reach matchmaking through this durable,
	// cell-local stream (see sessions.EventLog).
	sessionEvents, err := sessions.OpenEventLog(ctx, c.Bus.JS, c.cfg.CellID)
	if err != nil {
		return err
	}

	keysDir := filepath.Join(c.cfg.DataDir, "connect-keys")
	var created bool
	if c.ConnectKeys, created, err = tokens.LoadOrCreate(keysDir, connectKeyOverlap); err != nil {
		return fmt.Errorf("connect-token keys: %w", err)
	}
	if created {
		c.log.Info("created connect-token signing key", "dir", keysDir, "kid", c.ConnectKeys.ActiveKID())
	}
	verifier, err := c.accessVerifier(runCtx)
	if err != nil {
		return err
	}
	rc, err := ratings.New(ratings.Config{
		GlobalURL: c.cfg.GlobalURL, ServiceToken: c.cfg.ServiceToken, Default: c.cfg.DefaultRating, Log: c.log,
	})
	if err != nil {
		return err
	}

	ingest, err := c.newTelemetry(verifier)
	if err != nil {
		return err
	}

	// Bind before the fleet starts, so the public URL is known.
	mux := http.NewServeMux()
	metrics := obs.NewHTTPMetrics(c.Registry, "cell")
	c.handler = httpx.Recover(c.log, httpx.AccessLog(c.log, metrics.Wrap(httpx.JSONFallback(mux))))
	if c.http, err = httpx.Listen(c.cfg.HTTPAddr, c.handler); err != nil {
		return err
	}
	// Serve at once (an unstarted httpx.Server cannot be shut down); the
	// players' routes are added once matchmaking is up, and until then
	// /readyz answers that the cell is not ready.
	mux.HandleFunc("GET /healthz", c.Health.Live)
	mux.HandleFunc("GET /readyz", c.Health.Ready)
	mux.Handle("GET /metrics", obs.MetricsHandler(c.Registry))
	// Relays verify connect tokens against these keys before forwarding.
	mux.Handle("GET "+contract.ConnectJWKSPath, c.ConnectKeys.JWKSHandler())
	var up atomic.Bool
	c.Health.Add("started", func(context.Context) error {
		if !up.Load() {
			return errors.New("starting")
		}
		return nil
	})
	c.http.Start()
	c.publicURL = c.cfg.PublicURL
	if c.publicURL == "" {
		c.publicURL = "http://" + c.http.Addr()
	}

	issuer := connectIssuer(c.cfg.CellID)
	c.Fleet, err = fleet.New(fleet.Config{
		Command: c.cfg.GameServerCommand, LogDir: filepath.Join(c.cfg.DataDir, "gameserver-logs"),
		Host: c.cfg.GameHost, PortMin: c.cfg.GamePortMin, PortMax: c.cfg.GamePortMax,
		Buffer: c.cfg.WarmServers, Max: c.cfg.MaxServers, HeartbeatPeriod: c.cfg.HeartbeatPeriod,
		ConnectKeys: c.ConnectKeys.JWKS, Issuer: issuer, KV: fleetKV,
		Events:    sessionEvents.Publish,
		Telemetry: ingest.FleetSink(),
		Log:       c.log, Registry: c.Registry, Env: c.cfg.GameServerEnv,
	})
	if err != nil {
		return fmt.Errorf("fleet: %w", err)
	}
	forward, err := c.forwarding()
	if err != nil {
		return err
	}
	c.Matchmaking, err = matchmaking.New(matchmaking.Config{
		CellID: c.cfg.CellID, Region: c.cfg.Region, Modes: c.modes,
		Tickets: ticketsKV, Sessions: c.Sessions, Fleet: c.Fleet, Events: sessionEvents, Ratings: rc, Publisher: c.Bus,
		Verifier: verifier, ConnectKeys: c.ConnectKeys, Issuer: issuer, ConnectTTL: c.cfg.ConnectTokenTTL,
		PassInterval: c.cfg.MatchInterval, MaxWebSockets: c.cfg.MaxWebSockets, Log: c.log, Registry: c.Registry, Forward: forward,
	})
	if err != nil {
		return err
	}
	if err := c.Fleet.Start(ctx); err != nil {
		c.Fleet = nil // Start cleaned up after itself
		return err
	}
	if err := c.Matchmaking.Start(ctx); err != nil {
		return err
	}

	c.Matchmaking.Routes(mux, func(h http.Handler) http.Handler { return h })
	if err := c.startLeaderboards(ctx, verifier, mux); err != nil {
		return err
	}
	c.consumeErasures(runCtx) // erasure.go
	ingest.Routes(mux, func(h http.Handler) http.Handler { return h })
	// The browser client: players open /play/ and log in at the global
	// core's public URL (the issuer of their tokens).
	play, err := webclient.Handler(webclient.Config{GlobalURL: c.cfg.GlobalIssuer})
	if err != nil {
		return err
	}
	mux.Handle("GET /play/", http.StripPrefix("/play", play))
	mux.Handle("GET /play", http.RedirectHandler("/play/", http.StatusMovedPermanently))
	up.Store(true)

	if c.cfg.ConsulAddr != "" {
		reg, err := registry.New(registry.Config{
			ConsulAddr: c.cfg.ConsulAddr, Token: c.cfg.ConsulToken, CellID: c.cfg.CellID, Region: c.cfg.Region,
			PublicURL: c.publicURL, CheckURL: "http://" + dialable(c.http.Addr()) + "/readyz",
		})
		if err != nil {
			return err
		}
		if err := reg.Register(ctx); err != nil {
			return err
		}
		c.consul = reg
	}
	c.log.Info("cell started", "region", c.cfg.Region, "addr", c.http.Addr(), "public_url", c.publicURL,
		"nats", c.Bus.ClientURL(), "modes", len(c.modes), "consul", c.cfg.ConsulAddr != "")
	return nil
}

// accessVerifier builds the verifier of players' access tokens over the
// global core's JWKS, cached on disk and refreshed by a goroutine that runs
// until Shutdown.
func (c *Cell) accessVerifier(runCtx context.Context) (*tokens.Verifier, error) {
	cache := filepath.Join(c.cfg.DataDir, "global-jwks.json")
	if data, err := os.ReadFile(cache); err == nil {
		if _, err := tokens.ParseJWKS(data); err == nil {
			c.keysKnown.Store(true)
		}
	}
	remote, err := tokens.NewRemoteKeySet(tokens.RemoteConfig{
		URL: c.cfg.GlobalURL + "/.well-known/jwks.json", CachePath: cache, Logger: c.log,
		OnRefresh: func(err error) {
			if err == nil {
				c.keysKnown.Store(true)
			}
		},
	})
	if err != nil {
		return nil, err
	}
	// The first fetch happens here, so a cell whose core is up verifies
	// tokens as soon as it serves.
	fctx, cancel := context.WithTimeout(runCtx, tokens.FetchTimeout)
	_ = remote.Refresh(fctx) // a failure is logged; the disk cache stands in
	cancel()
	c.wg.Add(1)
	go func() { defer c.wg.Done(); remote.Run(runCtx) }()
	c.Health.Add("player_keys", func(context.Context) error {
		if !c.keysKnown.Load() {
			return errors.New("the global core's token keys are not known yet")
		}
		return nil
	})
	return tokens.NewVerifier(tokens.VerifierConfig{Keys: remote, Issuer: c.cfg.GlobalIssuer, Audience: Audience})
}

// forwarding reads the forward key when play goes through a relay; nil
// means players connect to game servers directly.
func (c *Cell) forwarding() (*matchmaking.Forward, error) {
	if c.cfg.ForwardRelay == "" {
		return nil, nil
	}
	host, portStr, err := net.SplitHostPort(c.cfg.ForwardRelay)
	port, perr := strconv.Atoi(portStr)
	if err != nil || perr != nil || host == "" || port < 1 || port > 65535 {
		return nil, fmt.Errorf("forward relay %q: want host:port", c.cfg.ForwardRelay)
	}
	key, err := contract.ReadForwardKey(c.cfg.ForwardKeyFile)
	if err != nil {
		return nil, err
	}
	return &matchmaking.Forward{RelayHost: host, RelayPort: port, Key: key}, nil
}

// dialable turns a bound address into one a local agent can dial: an
// unspecified host (0.0.0.0, ::) becomes loopback.
func dialable(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}

// URL is the cell's public URL (after Start).
func (c *Cell) URL() string { return c.publicURL }

// Addr is the bound HTTP address (after Start).
func (c *Cell) Addr() string { return c.http.Addr() }

// Handler is the cell's whole HTTP handler (after Start).
func (c *Cell) Handler() http.Handler { return c.handler }

// Shutdown drains the cell: readiness fails and Consul forgets it, the
// fleet stops (game servers keep running for the next start to re-adopt),
// then matchmaking and the HTTP API, and the bus stops. Queued tickets,
// sessions and session events not yet applied stay in JetStream; the order
// matters only for speed, since the fleet's events are durable.
func (c *Cell) Shutdown(ctx context.Context) error {
	c.mu.Lock()
	if c.stopped {
		c.mu.Unlock()
		return nil
	}
	c.stopped = true
	c.mu.Unlock()
	var errs []error
	if c.Health != nil {
		c.Health.SetDraining()
	}
	if c.consul != nil {
		dctx, cancel := context.WithTimeout(ctx, deregisterTimeout)
		errs = append(errs, c.consul.Deregister(dctx))
		cancel()
	}
	if c.Fleet != nil {
		// First, so that sessions ending meanwhile are applied by
		// matchmaking's consumer before it stops rather than at the next
		// start.
		errs = append(errs, c.Fleet.Shutdown(ctx))
	}
	if c.http != nil {
		if c.Matchmaking != nil {
			// Close WebSockets first: the HTTP server does not track them.
			errs = append(errs, c.Matchmaking.Shutdown(ctx))
		}
		errs = append(errs, c.http.Shutdown(ctx))
	} else if c.Matchmaking != nil {
		errs = append(errs, c.Matchmaking.Shutdown(ctx))
	}
	if c.cancel != nil {
		c.cancel()
	}
	c.wg.Wait()
	if c.Leaderboards != nil {
		errs = append(errs, c.Leaderboards.Shutdown(ctx))
	}
	if c.Bus != nil {
		errs = append(errs, c.Bus.Shutdown(ctx))
	}
	return errors.Join(errs...)
}
