package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/atollgg/atoll/global"
	"github.com/atollgg/atoll/global/audit"
	"github.com/atollgg/atoll/global/economy"
	"github.com/atollgg/atoll/global/hub"
	"github.com/atollgg/atoll/global/identity"
	"github.com/atollgg/atoll/global/matches"
	"github.com/atollgg/atoll/global/payments"
	"github.com/atollgg/atoll/internal/authn"
	"github.com/atollgg/atoll/internal/db"
	"github.com/atollgg/atoll/internal/obs"
	"github.com/atollgg/atoll/internal/password"
)

// shutdownGrace is how long in-flight requests get after SIGTERM: shorter
// than Kubernetes' default 30 s termination grace period.
const shutdownGrace = 20 * time.Second

func globalFlags(name string, stderr io.Writer) (*envFlags, func() (global.Config, error)) {
	f := newFlags(name, stderr)
	dbURL := f.String("database-url", "", "PostgreSQL or CockroachDB URL (required)")
	addr := f.String("http-addr", "127.0.0.1:8080", "HTTP listen address")
	public := f.String("public-url", "", "URL players and cells use to reach this core; the token issuer (default http://<http-addr>)")
	dataDir := f.String("data-dir", "", "directory for generated signing and PII keys (required)")
	admin := f.String("admin-token", "", "bearer token of the operators' admin API (empty disables it)")
	cells := f.String("cell-tokens", "", "per-cell service credentials: cell-id=token[ scope...],... (scopes: ratings:read, results:apply, grant:<currency>:<max>; none listed means ratings:read results:apply, rewards up to 1000 per non-premium currency)")
	rate := f.String("auth-rate-limit", "", `auth rate limits: "off", or "ip=120/min,burst=60;account=10/min;register=10/min"`)
	piiKeys := f.String("pii-keys", "", "email encryption keys kid:base64key,... (first active); empty generates them in the data dir")
	piiIndex := f.String("pii-index-key", "", "blind-index key (base64, 32 bytes)")
	argon := password.DefaultParams()
	argonM := f.Uint("argon2-memory-kib", uint(argon.Memory), "argon2id memory in KiB")
	argonT := f.Uint("argon2-iterations", uint(argon.Iterations), "argon2id iterations")
	argonP := f.Uint("argon2-parallelism", uint(argon.Parallelism), "argon2id parallelism")
	ttl := f.Duration("access-ttl", 15*time.Minute, "access token lifetime")
	auditRetention := f.Duration("audit-retention", audit.DefaultRetention, "keep audit log rows this long (negative: forever)")
	rotate := f.Duration("key-rotation", 0, "rotate the signing key this often (0: never)")
	oidc := f.String("oidc-issuers", "", "accepted OpenID Connect issuers: issuer_url|client_id[|jwks_url],...")
	proxies := f.String("trusted-proxies", "", "CIDRs of load balancers allowed to set X-Forwarded-For")
	cors := f.String("cors-origins", "", `origins whose pages may call the API (the cells serving the browser client), comma-separated; "*" for any`)
	maxConns := f.Int("db-max-conns", db.DefaultMaxConns, "database pool size")
	primary := f.String("primary-region", "", "CockroachDB primary region (enables the multi-region layout)")
	regions := f.String("regions", "", "other CockroachDB regions, comma-separated")
	currencies := f.String("currencies", "", `currencies, e.g. "coins,gems:premium" (default coins and premium gems)`)
	starting := f.String("starting-balances", "", `new wallets' balances, e.g. "coins=1000,gems=0"`)
	catalog := f.String("catalog-file", "", "item catalog seed file (default: the embedded development catalog)")
	catalogRefresh := f.Duration("catalog-refresh", economy.DefaultCatalogRefresh, "how stale the in-process catalog may be")
	xp := f.String("xp-thresholds", "", `total xp for each level from 2 up, e.g. "100,300,600"`)
	ratingIdle := f.Duration("rating-idle-period", 0, "grow a rating's deviation by one Glicko-2 period per this much idle time, e.g. 24h (0: only play changes it)")
	matchRewards := f.String("match-rewards", "", `per-mode match rewards, e.g. "duel:xp=100,coins=10,win.xp=50,win.coins=20;*:xp=50"; "off" for none (default: 100 xp and 10 soft currency, 50 xp and 10 more for a win)`)
	payProvider := f.String("payments-provider", "", `real-money gateway: "stripe", "dev" (fake payments: never in production) or empty (top-ups off)`)
	paySecrets := f.String("payments-webhook-secrets", "", "webhook signing secrets, comma-separated")
	stripeKey := f.String("stripe-secret-key", "", "Stripe API key")
	stripeURL := f.String("stripe-api-url", "", "Stripe API base URL (default Stripe's)")
	paySuccess := f.String("payments-success-url", "", "where the hosted checkout returns the player on success")
	payCancel := f.String("payments-cancel-url", "", "where the hosted checkout returns the player on cancel")
	payTolerance := f.Duration("payments-webhook-tolerance", payments.DefaultTolerance, "webhook timestamp tolerance")
	leaderboards := f.String("leaderboards-file", "", "YAML file of leaderboard definitions (empty: no leaderboards)")
	hubLeaf := f.String("hub-leaf-addr", "", "embedded NATS hub: leaf-node listen address for cells, e.g. 0.0.0.0:7422 (empty: no embedded hub)")
	hubCells := f.String("hub-cells", "", "leaf credentials of the cells: cell-id=secret,... (each cell's ATOLL_HUB_SECRET)")
	hubCert := f.String("hub-tls-cert", "", "leaf listener TLS certificate (PEM)")
	hubKey := f.String("hub-tls-key", "", "leaf listener TLS key (PEM)")
	hubCA := f.String("hub-tls-ca", "", "CA that cells' leaf certificates must chain to (empty: no client certificates)")
	hubExt := f.String("hub-external-url", "", "use this NATS (JetStream domain \"global\") instead of embedding a hub")
	hubExtCreds := f.String("hub-external-creds", "", "NATS .creds file for --hub-external-url")
	hubExtUser := f.String("hub-external-user", "", "user for --hub-external-url")
	hubExtPass := f.String("hub-external-password", "", "password for --hub-external-url")
	debugAddr := f.String("debug-addr", "", "serve Go's profiler on this separate, non-public address (empty: off)")
	topo := f.String("topology-dir", "", "topology folder; serves GET /topology and POST /route (empty: off)")
	consul := f.String("consul-addr", "", "Consul agent whose atoll-cell health routing follows (empty: every declared cell healthy)")
	consulToken := f.String("consul-token", "", "Consul ACL token")
	logLevel := f.String("log-level", "info", "debug, info, warn or error")
	f.markSecret("hub-cells", "hub-external-password")
	f.markSecret("consul-token")
	telemetrySettings := telemetrySinkFlags(f)
	f.markSecret("admin-token", "cell-tokens", "pii-keys", "pii-index-key", "database-url", "payments-webhook-secrets", "stripe-secret-key")
	build := func() (global.Config, error) {
		log, err := obs.NewLogger(stderr, *logLevel)
		if err != nil {
			return global.Config{}, err
		}
		cfg := global.Config{
			DatabaseURL: *dbURL, HTTPAddr: *addr, PublicURL: strings.TrimRight(*public, "/"), DataDir: *dataDir,
			AdminToken: *admin, AuthRateLimit: *rate, PIIKeys: *piiKeys, PIIIndexKey: *piiIndex,
			AccessTTL: *ttl, KeyRotation: durationOrZero(*rotate), AuditRetention: *auditRetention, DBMaxConns: int32(*maxConns),
			PrimaryRegion: *primary, DebugAddr: *debugAddr, Log: log,
			LeaderboardsFile: *leaderboards,
			TopologyDir:      *topo, ConsulAddr: *consul, ConsulToken: *consulToken,
		}
		cfg.Economy.CatalogFile, cfg.Economy.CatalogRefresh = *catalog, *catalogRefresh
		cfg.Telemetry = telemetrySettings()
		if *currencies != "" {
			if cfg.Economy.Currencies, err = economy.ParseCurrencies(*currencies); err != nil {
				return cfg, err
			}
		}
		if *starting != "" {
			if cfg.Economy.StartingBalances, err = economy.ParseAmounts(*starting); err != nil {
				return cfg, err
			}
		}
		if *xp != "" {
			if cfg.Economy.XPThresholds, err = economy.ParseThresholds(*xp); err != nil {
				return cfg, err
			}
		}
		cfg.RatingIdlePeriod = durationOrZero(*ratingIdle)
		if *matchRewards != "" {
			if cfg.Matches.Rewards, err = matches.ParseRewards(*matchRewards); err != nil {
				return cfg, err
			}
		}
		cfg.Payments = payments.Settings{
			Provider: *payProvider, WebhookSecrets: payments.ParseSecrets(*paySecrets), StripeSecretKey: *stripeKey,
			StripeAPIURL: *stripeURL, SuccessURL: *paySuccess, CancelURL: *payCancel, WebhookTolerance: *payTolerance,
		}
		if *hubLeaf != "" || *hubExt != "" {
			if cfg.Hub, err = hubConfig(*hubLeaf, *hubCells); err != nil {
				return cfg, err
			}
			cfg.Hub.TLS = hub.TLSFiles{Cert: *hubCert, Key: *hubKey, CA: *hubCA}
			cfg.Hub.ExternalURL, cfg.Hub.ExternalCreds = *hubExt, *hubExtCreds
			cfg.Hub.ExternalUser, cfg.Hub.ExternalPassword = *hubExtUser, *hubExtPass
		}
		if *cors != "" {
			for _, o := range strings.Split(*cors, ",") {
				cfg.CORSOrigins = append(cfg.CORSOrigins, strings.TrimSpace(o))
			}
		}
		if *regions != "" {
			cfg.Regions = strings.Split(*regions, ",")
		}
		if *argonM != 0 || *argonT != 0 || *argonP != 0 {
			p := password.DefaultParams()
			if *argonM != 0 {
				p.Memory = uint32(*argonM)
			}
			if *argonT != 0 {
				p.Iterations = uint32(*argonT)
			}
			if *argonP != 0 {
				p.Parallelism = uint8(*argonP)
			}
			cfg.Argon2 = p
		}
		if *cells != "" {
			if cfg.CellTokens, cfg.CellScopes, err = authn.ParseCredentials(*cells); err != nil {
				return cfg, fmt.Errorf("cell tokens: %w", err)
			}
		}
		if *oidc != "" {
			for _, e := range strings.Split(*oidc, ",") {
				parts := strings.Split(strings.TrimSpace(e), "|")
				if len(parts) < 2 || len(parts) > 3 {
					return cfg, fmt.Errorf("oidc issuer %q: want issuer_url|client_id[|jwks_url]", e)
				}
				p := identity.OIDCProvider{Issuer: parts[0], ClientID: parts[1]}
				if len(parts) == 3 {
					p.JWKSURL = parts[2]
				}
				cfg.OIDC = append(cfg.OIDC, p)
			}
		}
		if *proxies != "" {
			for _, c := range strings.Split(*proxies, ",") {
				p, err := netip.ParsePrefix(strings.TrimSpace(c))
				if err != nil {
					return cfg, fmt.Errorf("trusted proxy %q: %w", c, err)
				}
				cfg.TrustedProxies = append(cfg.TrustedProxies, p)
			}
		}
		return cfg, cfg.Validate()
	}
	return f, build
}

// hubConfig reads --hub-leaf-addr and --hub-cells.
func hubConfig(leafAddr, cells string) (*hub.Config, error) {
	hc := &hub.Config{}
	if leafAddr != "" {
		host, port, err := net.SplitHostPort(leafAddr)
		if err != nil {
			return nil, fmt.Errorf("hub leaf address %q: want host:port", leafAddr)
		}
		if hc.LeafPort, err = strconv.Atoi(port); err != nil || hc.LeafPort <= 0 {
			return nil, fmt.Errorf("hub leaf address %q: bad port", leafAddr)
		}
		hc.LeafHost = host
	}
	if cells != "" {
		secrets, err := authn.ParseSecrets(cells)
		if err != nil {
			return nil, fmt.Errorf("hub cells: %w", err)
		}
		hc.Cells = secrets
	}
	return hc, nil
}

func runGlobal(ctx context.Context, args []string, _, stderr io.Writer) error {
	f, build := globalFlags("global", stderr)
	if err := f.parse(args); err != nil {
		return err
	}
	cfg, err := build()
	if err != nil {
		return err
	}
	srv, err := global.New(ctx, cfg)
	if err != nil {
		return err
	}
	if err := srv.Start(ctx); err != nil {
		_ = srv.Shutdown(context.Background())
		return err
	}
	<-ctx.Done()
	cfg.Log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	return srv.Shutdown(sctx)
}
