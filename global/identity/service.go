package identity

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"time"

	"github.com/atollgg/atoll/internal/db"
	"github.com/atollgg/atoll/internal/password"
	"github.com/atollgg/atoll/internal/pii"
	"github.com/atollgg/atoll/internal/ratelimit"
	"github.com/atollgg/atoll/internal/tokens"
	"github.com/prometheus/client_golang/prometheus"
)

// Session lifetimes. A refresh token is good for 30 days of inactivity; a
// family (one login on one device) ends after 90 days however active, so a
// stolen-and-rotated token cannot live forever.
const (
	DefaultRefreshTTL       = 30 * 24 * time.Hour
	DefaultRefreshFamilyTTL = 90 * 24 * time.Hour
)

// Request body limits: every auth body is a few short strings; an OIDC
// id_token is at most a few KiB.
const (
	maxAuthBody = 4 << 10
	maxOIDCBody = 16 << 10
)

// Limits are the auth endpoints' rate limits, each applied per client IP and
// per account (username, email or device).
type Limits struct {
	// Off disables every limit (load tests).
	Off      bool
	PerIP    ratelimit.Rate
	PerAcct  ratelimit.Rate
	MaxKeys  int
	Trusted  []netip.Prefix
	Register ratelimit.Rate
}

// DefaultLimits suit a public deployment: a player logs in a few times a
// day, while a NAT of players shares one IP, hence the larger IP budget.
func DefaultLimits() Limits {
	return Limits{
		PerIP:    ratelimit.Rate{Events: 120, Per: time.Minute, Burst: 60},
		PerAcct:  ratelimit.Rate{Events: 10, Per: time.Minute, Burst: 10},
		Register: ratelimit.Rate{Events: 10, Per: time.Minute, Burst: 10},
		MaxKeys:  1 << 20,
	}
}

// Config is the identity service's whole configuration.
type Config struct {
	DB       *db.DB
	Issuer   *tokens.Issuer
	Verifier *tokens.Verifier
	Hasher   *password.Hasher
	Policy   password.Policy
	PII      *pii.Keyring
	Index    *pii.IndexKey
	Limits   Limits
	// OIDC lists the external issuers whose id_tokens /auth/oidc accepts; empty disables it.
	OIDC []OIDCProvider
	// RefreshTTL is zero for DefaultRefreshTTL.
	RefreshTTL time.Duration
	// RefreshFamilyTTL is zero for DefaultRefreshFamilyTTL.
	RefreshFamilyTTL time.Duration
	Log              *slog.Logger
	// Registry receives the service's metrics; nil means none are exported.
	Registry prometheus.Registerer
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Service implements the /auth routes.
type Service struct {
	cfg                          Config
	db                           *db.DB
	ipLimit, acctLimit, regLimit *ratelimit.Limiter
	oidc                         *oidcSet
	batch, create                *deviceBatcher
	now                          func() time.Time
	rejected                     *rejections
}

// Run runs the service's background workers until ctx ends; call it once
// before serving requests.
func (s *Service) Run(ctx context.Context) {
	s.batch.run(ctx)
	s.create.run(ctx)
	<-ctx.Done()
	s.batch.wait()
	s.create.wait()
}

// New validates cfg and builds the service.
func New(cfg Config) (*Service, error) {
	switch {
	case cfg.DB == nil:
		return nil, errors.New("identity: no database")
	case cfg.Issuer == nil || cfg.Verifier == nil:
		return nil, errors.New("identity: no token issuer/verifier")
	case cfg.Hasher == nil:
		return nil, errors.New("identity: no password hasher")
	case cfg.PII == nil || cfg.Index == nil:
		return nil, errors.New("identity: no PII keys")
	case cfg.Log == nil:
		return nil, errors.New("identity: no logger")
	}
	if err := cfg.Policy.Validate(); err != nil {
		return nil, fmt.Errorf("identity: %w", err)
	}
	if cfg.RefreshTTL == 0 {
		cfg.RefreshTTL = DefaultRefreshTTL
	}
	if cfg.RefreshFamilyTTL == 0 {
		cfg.RefreshFamilyTTL = DefaultRefreshFamilyTTL
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	s := &Service{cfg: cfg, db: cfg.DB, now: cfg.Now, batch: newLoginBatcher(cfg.DB, cfg.Registry), create: newCreateBatcher(cfg.DB, cfg.Registry),
		rejected: newRejections(cfg.Registry)}
	if !cfg.Limits.Off {
		var err error
		maxKeys := cfg.Limits.MaxKeys
		if maxKeys == 0 {
			maxKeys = DefaultLimits().MaxKeys
		}
		if s.ipLimit, err = ratelimit.New(cfg.Limits.PerIP, maxKeys); err != nil {
			return nil, fmt.Errorf("identity: per-IP limit: %w", err)
		}
		if s.acctLimit, err = ratelimit.New(cfg.Limits.PerAcct, maxKeys); err != nil {
			return nil, fmt.Errorf("identity: per-account limit: %w", err)
		}
		if s.regLimit, err = ratelimit.New(cfg.Limits.Register, maxKeys); err != nil {
			return nil, fmt.Errorf("identity: register limit: %w", err)
		}
	}
	o, err := newOIDCSet(cfg.OIDC)
	if err != nil {
		return nil, fmt.Errorf("identity: %w", err)
	}
	s.oidc = o
	return s, nil
}
