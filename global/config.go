package global

import (
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"strings"
	"time"

	"github.com/atollgg/atoll/contract"
	"github.com/atollgg/atoll/global/economy"
	"github.com/atollgg/atoll/global/hub"
	"github.com/atollgg/atoll/global/identity"
	"github.com/atollgg/atoll/global/matches"
	"github.com/atollgg/atoll/global/payments"
	"github.com/atollgg/atoll/global/telemetry"
	"github.com/atollgg/atoll/internal/authn"
	"github.com/atollgg/atoll/internal/password"
	"github.com/atollgg/atoll/internal/ratelimit"
)

// Config is the global core's whole configuration.
type Config struct {
	// DatabaseURL is a PostgreSQL or CockroachDB URL (ATOLL_DATABASE_URL).
	DatabaseURL string
	// DBMaxConns is the pool size; zero means db.DefaultMaxConns.
	DBMaxConns int32
	// HTTPAddr is the listen address, e.g. 127.0.0.1:8080 (ATOLL_HTTP_ADDR).
	HTTPAddr string
	// PublicURL is the URL players and cells reach this core at; it is the
	// tokens' issuer. Empty means http://<HTTPAddr>.
	PublicURL string
	// DataDir holds generated signing and PII keys (ATOLL_DATA_DIR).
	DataDir string
	// AdminToken authenticates the operators' admin API; empty disables it.
	AdminToken string
	// CellTokens are the per-cell service credentials (ATOLL_CELL_TOKENS).
	CellTokens authn.Secrets
	// CellScopes are the scopes listed after each cell token in
	// ATOLL_CELL_TOKENS; nil (or a cell absent from it) means
	// authn.DefaultScopes: ratings:read and results:apply.
	CellScopes authn.Scopes
	// AuthRateLimit is "off", empty for the defaults, or
	// "ip=120/min,burst=60;account=10/min;register=10/min".
	AuthRateLimit string
	// PIIKeys is "kid:base64key,..." (first is active); empty means keys
	// generated in DataDir. PIIIndexKey is the blind-index key (base64).
	PIIKeys, PIIIndexKey string
	// Argon2 are the password hashing parameters; zero means password.DefaultParams().
	Argon2 password.Params
	// AccessTTL is the access token lifetime; zero means 15 minutes.
	AccessTTL time.Duration
	// AuditRetention is how long audit_log rows are kept
	// (ATOLL_AUDIT_RETENTION); zero means audit.DefaultRetention (180 days),
	// negative keeps every row.
	AuditRetention time.Duration
	// KeyRotation rotates the signing key this often; zero disables rotation.
	KeyRotation time.Duration
	// OIDC lists accepted external OpenID Connect issuers.
	OIDC []identity.OIDCProvider
	// CORSOrigins may call the API from a browser (the cells serving the
	// browser client); "*" allows any. Empty allows none.
	CORSOrigins []string
	// TrustedProxies may set X-Forwarded-For.
	TrustedProxies []netip.Prefix
	// PrimaryRegion and Regions lay the database out across CockroachDB
	// regions; empty leaves it single-region. Ignored on PostgreSQL.
	PrimaryRegion string
	Regions       []string
	// --- economy & payments ---
	// Economy are the currencies, starting balances, catalog seed file and
	// xp thresholds (ATOLL_CURRENCIES, ATOLL_STARTING_BALANCES,
	// ATOLL_CATALOG_FILE, ATOLL_CATALOG_REFRESH, ATOLL_XP_THRESHOLDS); the
	// zero value is coins and gems, 1000 starting coins and the embedded
	// development catalog.
	Economy economy.Settings
	// Payments selects the real-money gateway (ATOLL_PAYMENTS_*,
	// ATOLL_STRIPE_*); the zero value disables top-ups.
	Payments payments.Settings
	// --- end economy & payments ---
	// --- progression ---
	// Matches are the per-mode match rewards (ATOLL_MATCH_REWARDS); the
	// zero value is matches.DefaultRewards of the first soft currency.
	Matches matches.Settings
	// RatingIdlePeriod grows a Glicko-2 rating's deviation by one rating
	// period per this much time without rated play (ATOLL_RATING_IDLE_PERIOD);
	// zero means it grows only with play.
	RatingIdlePeriod time.Duration
	// --- end progression ---
	// LeaderboardsFile is the YAML file of leaderboard definitions
	// (contract.ParseLeaderboards; ATOLL_LEADERBOARDS_FILE); the core keeps
	// the global ones. Empty means Leaderboards.
	LeaderboardsFile string
	// Leaderboards are the definitions when LeaderboardsFile is empty; nil
	// means no leaderboards.
	Leaderboards []contract.LeaderboardDefinition
	// --- bus ---
	// Hub is the NATS hub cells join as leaves (ATOLL_HUB_*): embedded, or
	// an operator's NATS with Hub.ExternalURL. Nil means no hub: nothing
	// consumes the cells' events and erasures do not reach the cells.
	// Hub.DataDir empty means DataDir; Hub.Log nil means Log.
	Hub *hub.Config
	// --- end bus ---
	// --- routing ---
	// TopologyDir is the topology folder (ATOLL_TOPOLOGY_DIR); with it the
	// core serves GET /topology and POST /route. Empty disables both.
	TopologyDir string
	// ConsulAddr and ConsulToken follow the cells' health for routing
	// (ATOLL_CONSUL_ADDR, ATOLL_CONSUL_TOKEN); empty takes every declared
	// cell as healthy.
	ConsulAddr, ConsulToken string
	// --- end routing ---
	// Telemetry is the telemetry sink (hub URL, retention, anti-cheat
	// rules); the zero value disables it.
	Telemetry telemetry.Settings
	// DebugAddr, when set, serves Go's profiler on this separate (never
	// public) address; empty disables it.
	DebugAddr string
	// Log is the logger; nil means a JSON logger on stderr at info.
	Log *slog.Logger
}

// Validate reports every problem with cfg at once.
func (c *Config) Validate() error {
	var errs []error
	if c.DatabaseURL == "" {
		errs = append(errs, errors.New("database URL is required (ATOLL_DATABASE_URL, --database-url)"))
	}
	if c.HTTPAddr == "" {
		errs = append(errs, errors.New("HTTP listen address is required (ATOLL_HTTP_ADDR, --http-addr)"))
	}
	if c.DataDir == "" {
		errs = append(errs, errors.New("data directory is required (ATOLL_DATA_DIR, --data-dir)"))
	}
	if c.AdminToken != "" && len(c.AdminToken) < authn.MinSecretLength {
		errs = append(errs, fmt.Errorf("admin token must be at least %d characters", authn.MinSecretLength))
	}
	if _, err := ParseAuthLimits(c.AuthRateLimit); err != nil {
		errs = append(errs, err)
	}
	if c.Argon2 != (password.Params{}) {
		if err := c.Argon2.Validate(); err != nil {
			errs = append(errs, err)
		}
	}
	if c.AccessTTL < 0 || c.AccessTTL > time.Hour {
		errs = append(errs, errors.New("access token TTL must be between 1s and 1h: access tokens are bearer credentials cells verify offline"))
	}
	// --- economy & payments ---
	if err := c.Economy.Validate(); err != nil {
		errs = append(errs, err)
	}
	if err := c.Payments.Validate(); err != nil {
		errs = append(errs, err)
	}
	// --- end economy & payments ---
	// --- progression ---
	if err := c.Matches.Validate(); err != nil {
		errs = append(errs, err)
	}
	// --- end progression ---
	if c.Hub != nil {
		h := *c.Hub
		if h.DataDir == "" {
			h.DataDir = c.DataDir
		}
		if err := h.Validate(); err != nil {
			errs = append(errs, err)
		}
	}
	if err := c.Telemetry.Validate(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// ParseAuthLimits reads ATOLL_AUTH_RATE_LIMIT.
func ParseAuthLimits(spec string) (identity.Limits, error) {
	l := identity.DefaultLimits()
	spec = strings.TrimSpace(spec)
	if spec == "" {
		return l, nil
	}
	if strings.EqualFold(spec, "off") {
		l.Off = true
		return l, nil
	}
	for _, part := range strings.Split(spec, ";") {
		name, val, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return l, fmt.Errorf("auth rate limit %q: want name=rate, e.g. ip=120/min,burst=60", part)
		}
		r, err := ratelimit.ParseRate(val)
		if err != nil {
			return l, fmt.Errorf("auth rate limit %s: %w", name, err)
		}
		switch strings.TrimSpace(name) {
		case "ip":
			l.PerIP = r
		case "account":
			l.PerAcct = r
		case "register":
			l.Register = r
		default:
			return l, fmt.Errorf("auth rate limit: unknown scope %q (want ip, account or register)", name)
		}
	}
	return l, nil
}
