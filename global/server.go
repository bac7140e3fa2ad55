package global

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/atollgg/atoll/global/audit"
	"github.com/atollgg/atoll/global/economy"
	"github.com/atollgg/atoll/global/federation"
	"github.com/atollgg/atoll/global/hub"
	"github.com/atollgg/atoll/global/identity"
	"github.com/atollgg/atoll/global/leaderboard"
	"github.com/atollgg/atoll/global/matches"
	"github.com/atollgg/atoll/global/payments"
	"github.com/atollgg/atoll/global/players"
	"github.com/atollgg/atoll/global/ratings"
	"github.com/atollgg/atoll/global/schema"
	"github.com/atollgg/atoll/global/telemetry"
	"github.com/atollgg/atoll/internal/db"
	"github.com/atollgg/atoll/internal/httpx"
	"github.com/atollgg/atoll/internal/obs"
	"github.com/atollgg/atoll/internal/password"
	"github.com/atollgg/atoll/internal/pii"
	"github.com/atollgg/atoll/internal/tokens"
	"github.com/atollgg/atoll/relay/routing"
	"github.com/prometheus/client_golang/prometheus"
)

// Audience is the "aud" of Atoll access tokens.
const Audience = "atoll"

// Concurrency and timing limits.
const (
	// maxConcurrentHashes bounds argon2id work: each hash holds Memory KiB,
	// so 2x the cores keeps a login flood from exhausting RAM or starving
	// other requests of CPU.
	maxConcurrentHashes = 8
	// keyOverlap keeps a retired signing key published long enough for every
	// token it signed to expire, plus cells' JWKS cache age.
	keyOverlap = 2 * time.Hour
	// startTimeout bounds connecting and migrating at start.
	startTimeout = 2 * time.Minute
)

// Server is a running global core.
type Server struct {
	cfg      Config
	log      *slog.Logger
	DB       *db.DB
	Keys     *tokens.KeyRing
	Issuer   *tokens.Issuer
	Verifier *tokens.Verifier
	Registry *prometheus.Registry
	Health   *obs.Health
	Identity *identity.Service
	Players  *players.Service
	PII      *pii.Keyring
	Economy  *economy.Service  // economy & payments
	Payments *payments.Service // economy & payments
	Ratings  *ratings.Service  // progression
	Matches  *matches.Service  // progression: ApplyMatchCompleted for the federation
	// Leaderboards are the global boards (leaderboards.go).
	Leaderboards *leaderboard.Service
	// Hub and Federation are the bus (nil without Config.Hub): register
	// cell-event handlers with Federation.Handle before Start.
	Hub        *hub.Hub
	Federation *federation.Federation
	Routing    *routing.Routing // routing; nil without a topology folder

	mux     *http.ServeMux
	wrap    func(http.Handler) http.Handler
	http    *httpx.Server
	debug   *httpx.Server
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	started bool
	handler http.Handler
}

// New connects to the database, applies migrations, loads or creates keys
// and builds every service. It does not listen yet.
func New(ctx context.Context, cfg Config) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("global config: %w", err)
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.NewJSONHandler(os.Stderr, nil))
	}
	if cfg.Argon2 == (password.Params{}) {
		cfg.Argon2 = password.DefaultParams()
	}
	log := cfg.Log.With("service", "global")
	s := &Server{cfg: cfg, log: log, mux: http.NewServeMux()}
	ok := false
	defer func() {
		if !ok && s.Hub != nil {
			_ = s.Hub.Shutdown(ctx)
		}
		if !ok && s.DB != nil {
			s.DB.Close()
		}
	}()

	// Bind first: with port 0 the public URL, which is the tokens' issuer,
	// is only known once the listener exists.
	srv, err := httpx.Listen(cfg.HTTPAddr, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }))
	if err != nil {
		return nil, err
	}
	s.http = srv
	if cfg.PublicURL == "" {
		cfg.PublicURL = "http://" + srv.Addr()
		s.cfg.PublicURL = cfg.PublicURL
	}
	defer func() {
		if !ok {
			_ = srv.Close()
		}
	}()
	sctx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()
	if s.DB, err = db.Open(sctx, db.Config{URL: cfg.DatabaseURL, MaxConns: cfg.DBMaxConns}); err != nil {
		return nil, err
	}
	if err := schema.Apply(sctx, s.DB); err != nil {
		return nil, err
	}
	if cfg.PrimaryRegion != "" {
		name := s.DB.Pool.Config().ConnConfig.Database
		applied, err := s.DB.ApplyMultiRegion(sctx, schema.Layout(name, cfg.PrimaryRegion, cfg.Regions))
		if err != nil {
			return nil, err
		}
		log.Info("multi-region layout", "applied", applied, "dialect", s.DB.Dialect.String())
	}
	log.Info("database ready", "dialect", s.DB.Dialect.String())

	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("data dir: %w", err)
	}
	keys, created, err := tokens.LoadOrCreate(filepath.Join(cfg.DataDir, "signing-keys"), keyOverlap)
	if err != nil {
		return nil, fmt.Errorf("signing keys: %w", err)
	}
	if created {
		log.Info("created signing keys", "dir", filepath.Join(cfg.DataDir, "signing-keys"), "kid", keys.ActiveKID())
	}
	s.Keys = keys
	if s.Issuer, err = tokens.NewIssuer(tokens.IssuerConfig{Keys: keys, Issuer: cfg.PublicURL, Audience: Audience, AccessTTL: cfg.AccessTTL}); err != nil {
		return nil, err
	}
	if s.Verifier, err = tokens.NewVerifier(tokens.VerifierConfig{Keys: keys, Issuer: cfg.PublicURL, Audience: Audience}); err != nil {
		return nil, err
	}
	ring, index, err := loadPII(cfg, log)
	if err != nil {
		return nil, err
	}
	s.PII = ring
	hasher, err := password.New(cfg.Argon2, maxConcurrentHashes)
	if err != nil {
		return nil, err
	}
	limits, _ := ParseAuthLimits(cfg.AuthRateLimit)
	limits.Trusted = cfg.TrustedProxies

	s.Registry = obs.NewRegistry()
	s.Registry.MustRegister(obs.NewPoolCollector(s.DB.Pool, "global"))
	metrics := obs.NewHTTPMetrics(s.Registry, "global")
	s.wrap = func(h http.Handler) http.Handler { return h }
	s.Health = obs.NewHealth()
	s.Health.Add("database", s.DB.Ping)

	if s.Identity, err = identity.New(identity.Config{
		DB: s.DB, Issuer: s.Issuer, Verifier: s.Verifier, Hasher: hasher, Policy: password.Policy{},
		PII: ring, Index: index, Limits: limits, OIDC: cfg.OIDC, Log: log, Registry: s.Registry,
	}); err != nil {
		return nil, err
	}
	if s.Players, err = players.New(players.Config{DB: s.DB, Verifier: s.Verifier, PII: ring, Log: log}); err != nil {
		return nil, err
	}
	s.Identity.Routes(s.mux, s.wrap)
	s.Identity.SuspensionRoutes(s.mux, s.wrap, cfg.AdminToken) // telemetry: anti-cheat suspensions
	s.Players.Routes(s.mux, s.wrap)
	if err := s.addBus(sctx); err != nil {
		return nil, err
	}
	if err := s.addServices(); err != nil {
		return nil, err
	}

	s.mux.Handle("GET /.well-known/jwks.json", keys.JWKSHandler())
	s.mux.Handle("GET /.well-known/openid-configuration", tokens.OpenIDConfigurationHandler(cfg.PublicURL))
	s.mux.HandleFunc("GET /healthz", s.Health.Live)
	s.mux.HandleFunc("GET /readyz", s.Health.Ready)
	s.mux.Handle("GET /metrics", obs.MetricsHandler(s.Registry))
	ok = true
	s.handler = httpx.Recover(log, httpx.AccessLog(log, metrics.Wrap(httpx.CORS(cfg.CORSOrigins, httpx.JSONFallback(s.mux)))))
	return s, nil
}

// addServices wires the services added after identity (economy, ratings…).
func (s *Server) addServices() error {
	// --- ratings: per-mode skill ratings, read by cells (service credential) ---
	rt, err := ratings.New(ratings.Config{DB: s.DB, CellTokens: s.cfg.CellTokens, CellScopes: s.cfg.CellScopes, Log: s.log, IdlePeriod: s.cfg.RatingIdlePeriod})
	if err != nil {
		return err
	}
	rt.Routes(s.mux, s.wrap)
	s.Players.AddExport("ratings", rt.Export)
	s.Players.AddEraser("ratings", rt.Erase)
	s.Ratings = rt
	// --- end ratings ---
	// --- economy & payments: wallets, store, inventory, ledger, grants, top-ups ---
	ectx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	eco, err := economy.New(ectx, economy.Config{DB: s.DB, Verifier: s.Verifier, Settings: s.cfg.Economy,
		AdminToken: s.cfg.AdminToken, CellTokens: s.cfg.CellTokens, CellScopes: s.cfg.CellScopes, Log: s.log})
	if err != nil {
		return err
	}
	pay, err := payments.New(payments.Config{DB: s.DB, Economy: eco, Verifier: s.Verifier, AdminToken: s.cfg.AdminToken,
		Settings: s.cfg.Payments, PublicURL: s.cfg.PublicURL, Log: s.log})
	if err != nil {
		return err
	}
	s.Economy, s.Payments = eco, pay
	eco.Routes(s.mux, s.wrap)
	pay.Routes(s.mux, s.wrap)
	s.Players.AddExport("economy", eco.Export)
	s.Players.AddEraser("economy", eco.Erase)
	// --- end economy & payments ---
	// --- progression: match history, xp, rewards and ratings of finished matches ---
	if s.Matches, err = matches.New(matches.Config{DB: s.DB, Economy: eco, Ratings: rt, Verifier: s.Verifier,
		Settings: s.cfg.Matches, Log: s.log}); err != nil {
		return err
	}
	s.Matches.Routes(s.mux, s.wrap)
	s.Players.AddExport("matches", s.Matches.Export)
	s.Players.AddEraser("matches", s.Matches.Erase)
	// --- end progression ---
	// --- leaderboards ---
	if err := s.addLeaderboards(ectx); err != nil {
		return err
	}
	// --- end leaderboards ---
	// --- federation: cells' match.completed → progression and global boards ---
	if err := s.addFederationHandlers(); err != nil {
		return err
	}
	// --- end federation ---
	// --- routing: GET /topology and POST /route over the topology folder ---
	if s.cfg.TopologyDir != "" {
		rt, err := routing.New(routing.Config{TopologyDir: s.cfg.TopologyDir, ConsulAddr: s.cfg.ConsulAddr,
			ConsulToken: s.cfg.ConsulToken, Verifier: s.Verifier, Log: s.log})
		if err != nil {
			return err
		}
		s.Routing = rt
		rt.Routes(s.mux)
	}
	// --- end routing ---
	return nil
}

// addBus starts the hub and builds the federation (consumers start in
// Start), and makes erasures reach the cells.
func (s *Server) addBus(ctx context.Context) error {
	if s.cfg.Hub == nil {
		return nil
	}
	hc := *s.cfg.Hub
	if hc.DataDir == "" {
		hc.DataDir = s.cfg.DataDir
	}
	if hc.Log == nil {
		hc.Log = s.log
	}
	h, err := hub.Start(ctx, hc)
	if err != nil {
		return err
	}
	s.Hub = h
	s.Health.Add("hub", h.Ready)
	if s.Federation, err = federation.New(federation.Config{DB: s.DB, JS: h.JS, Registry: s.Registry, Log: s.log}); err != nil {
		return err
	}
	s.Players.AddEraser("federation", federation.EnqueuePlayerErased)
	s.log.Info("hub ready", "leaf_url", h.LeafURL(), "cells", h.Cells())
	return nil
}

func loadPII(cfg Config, log *slog.Logger) (*pii.Keyring, *pii.IndexKey, error) {
	if cfg.PIIKeys != "" || cfg.PIIIndexKey != "" {
		if cfg.PIIKeys == "" || cfg.PIIIndexKey == "" {
			return nil, nil, errors.New("PII keys: set both ATOLL_PII_KEYS and ATOLL_PII_INDEX_KEY, or neither")
		}
		ring, err := pii.ParseKeys(cfg.PIIKeys)
		if err != nil {
			return nil, nil, fmt.Errorf("ATOLL_PII_KEYS: %w", err)
		}
		idx, err := pii.ParseIndexKey(cfg.PIIIndexKey)
		if err != nil {
			return nil, nil, fmt.Errorf("ATOLL_PII_INDEX_KEY: %w", err)
		}
		return ring, idx, nil
	}
	dir := filepath.Join(cfg.DataDir, "pii-keys")
	ring, idx, created, err := pii.LoadOrCreate(dir)
	if err != nil {
		return nil, nil, fmt.Errorf("PII keys: %w", err)
	}
	if created {
		log.Info("created PII encryption keys", "dir", dir)
	}
	return ring, idx, nil
}

// Handler is the core's whole HTTP handler, for in-process tests.
func (s *Server) Handler() http.Handler { return s.handler }

// Start listens on cfg.HTTPAddr and serves, and starts key rotation.
func (s *Server) Start(ctx context.Context) error {
	srv := s.http
	srv.Start()
	if s.cfg.DebugAddr != "" {
		dbg, err := httpx.Listen(s.cfg.DebugAddr, obs.DebugHandler())
		if err != nil {
			return err
		}
		s.debug = dbg
		s.debug.Start()
	}
	rctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	s.cancel = cancel
	s.wg.Add(3)
	go func() { defer s.wg.Done(); s.Identity.Run(rctx) }()
	go func() { defer s.wg.Done(); s.Leaderboards.Run(rctx) }() // leaderboards
	go func() {
		defer s.wg.Done()
		// Finishes a PII key rotation in the background; a no-op scan otherwise.
		n, err := players.ResealEmails(rctx, s.DB, s.PII)
		if err != nil && rctx.Err() == nil {
			s.log.Error("re-seal emails with the active PII key", "err", err)
		} else if n > 0 {
			s.log.Info("re-sealed emails with the active PII key", "rows", n, "kid", s.PII.ActiveID())
		}
	}()
	if s.cfg.Telemetry.NATSURL != "" { // telemetry sink: the hub's cells' telemetry into the event log
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			if err := telemetry.Run(rctx, s.cfg.Telemetry, s.DB, identity.Suspend, s.log, s.Registry); err != nil {
				s.log.Error("telemetry sink stopped", "err", err)
			}
		}()
	}
	if s.Federation != nil {
		if err := s.Federation.Start(ctx); err != nil {
			return err
		}
	}
	if s.Routing != nil {
		s.wg.Add(1)
		go func() { defer s.wg.Done(); s.Routing.Run(rctx) }()
	}
	s.wg.Add(1)
	go func() { defer s.wg.Done(); audit.RunRetention(rctx, s.DB, s.cfg.AuditRetention, 0, s.log) }()
	if s.cfg.KeyRotation > 0 {
		s.wg.Add(1)
		go func() { defer s.wg.Done(); s.rotateKeys(rctx) }()
	}
	s.started = true
	s.log.Info("global core listening", "addr", srv.Addr(), "public_url", s.cfg.PublicURL)
	return nil
}

// Addr is the bound address once started.
func (s *Server) Addr() string { return s.http.Addr() }

// URL is the base URL of the bound address once started.
func (s *Server) URL() string { return "http://" + s.http.Addr() }

func (s *Server) rotateKeys(ctx context.Context) {
	t := time.NewTicker(s.cfg.KeyRotation)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			if err := s.Keys.Rotate(now); err != nil {
				s.log.Error("rotate signing key", "err", err)
				continue
			}
			n, err := s.Keys.Prune(now)
			if err != nil {
				s.log.Error("prune signing keys", "err", err)
			}
			s.log.Info("rotated signing key", "kid", s.Keys.ActiveKID(), "pruned", n)
		}
	}
}

// Shutdown drains: readiness goes false, in-flight requests finish, then the
// database pool closes.
func (s *Server) Shutdown(ctx context.Context) error {
	s.Health.SetDraining()
	var err error
	if s.debug != nil {
		_ = s.debug.Shutdown(ctx)
	}
	if s.started {
		err = s.http.Shutdown(ctx)
		s.cancel()
		s.wg.Wait()
	} else {
		_ = s.http.Close()
	}
	if s.Federation != nil {
		err = errors.Join(err, s.Federation.Shutdown(ctx))
	}
	if s.Hub != nil {
		err = errors.Join(err, s.Hub.Shutdown(ctx))
	}
	s.DB.Close()
	return err
}
