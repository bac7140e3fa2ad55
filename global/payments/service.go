package payments

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/atollgg/atoll/global/economy"
	"github.com/atollgg/atoll/internal/authn"
	"github.com/atollgg/atoll/internal/db"
	"github.com/atollgg/atoll/internal/httpx"
	"github.com/atollgg/atoll/internal/tokens"
)

// Settings is the operator-facing payments configuration, the part
// global.Config carries. The zero value disables top-ups.
type Settings struct {
	// Provider is "" (top-ups disabled), "dev" or "stripe"
	// (ATOLL_PAYMENTS_PROVIDER).
	Provider string
	// WebhookSecrets verify webhook signatures; several during a rotation
	// (ATOLL_PAYMENTS_WEBHOOK_SECRETS, comma-separated). Required for
	// stripe; for dev, empty generates a secret per process.
	WebhookSecrets []string
	// StripeSecretKey is Stripe's API key (ATOLL_STRIPE_SECRET_KEY).
	StripeSecretKey string
	// StripeAPIURL is empty for DefaultStripeAPIURL (ATOLL_STRIPE_API_URL).
	StripeAPIURL string
	// SuccessURL and CancelURL are where Stripe's hosted page returns the
	// player (ATOLL_PAYMENTS_SUCCESS_URL, ATOLL_PAYMENTS_CANCEL_URL);
	// required for stripe.
	SuccessURL, CancelURL string
	// WebhookTolerance is the signature timestamp tolerance
	// (ATOLL_PAYMENTS_WEBHOOK_TOLERANCE); zero means DefaultTolerance.
	WebhookTolerance time.Duration
}

// Validate reports every problem with s at once.
func (s Settings) Validate() error {
	var errs []error
	switch s.Provider {
	case "", "dev":
	case "stripe":
		if s.StripeSecretKey == "" {
			errs = append(errs, errors.New("payments: stripe needs ATOLL_STRIPE_SECRET_KEY"))
		}
		if len(s.WebhookSecrets) == 0 {
			errs = append(errs, errors.New("payments: stripe needs ATOLL_PAYMENTS_WEBHOOK_SECRETS"))
		}
		if s.SuccessURL == "" || s.CancelURL == "" {
			errs = append(errs, errors.New("payments: stripe needs ATOLL_PAYMENTS_SUCCESS_URL and ATOLL_PAYMENTS_CANCEL_URL"))
		}
	default:
		errs = append(errs, fmt.Errorf("payments: unknown provider %q (want dev or stripe, or empty to disable)", s.Provider))
	}
	if s.WebhookTolerance < 0 || s.WebhookTolerance > time.Hour {
		errs = append(errs, errors.New("payments: webhook tolerance must be between 0 and 1h"))
	}
	return errors.Join(errs...)
}

// ParseSecrets reads ATOLL_PAYMENTS_WEBHOOK_SECRETS: "whsec_a,whsec_b".
func ParseSecrets(spec string) []string {
	var out []string
	for _, p := range strings.Split(spec, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// Config is the payments service's whole configuration.
type Config struct {
	// DB is the global database. Required.
	DB *db.DB
	// Economy credits and reverses top-ups. Required.
	Economy *economy.Service
	// Verifier checks players' access tokens. Required.
	Verifier *tokens.Verifier
	// AdminToken guards the dev provider's refund and dispute simulations;
	// empty disables them.
	AdminToken string
	Settings   Settings
	// PublicURL is where players reach the core, the base of the dev
	// provider's checkout URLs; empty makes them relative paths.
	PublicURL string
	// Provider, when set, is used instead of the one Settings names.
	Provider Provider
	// Log is the logger. Required.
	Log *slog.Logger
	// Now is the clock for signature tolerance; nil means time.Now.
	Now func() time.Time
}

// Service is checkout and webhook processing. It starts no goroutines.
type Service struct {
	cfg      Config
	db       *db.DB
	eco      *economy.Service
	log      *slog.Logger
	now      func() time.Time
	provider Provider
	dev      *Dev
}

// New builds the service and its provider.
func New(cfg Config) (*Service, error) {
	if cfg.DB == nil || cfg.Economy == nil || cfg.Verifier == nil || cfg.Log == nil {
		return nil, errors.New("payments: database, economy, token verifier and logger are required")
	}
	if err := cfg.Settings.Validate(); err != nil {
		return nil, err
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	s := &Service{cfg: cfg, db: cfg.DB, eco: cfg.Economy, log: cfg.Log, now: cfg.Now, provider: cfg.Provider}
	st := cfg.Settings
	if s.provider == nil {
		switch st.Provider {
		case "dev":
			secret := ""
			if len(st.WebhookSecrets) > 0 {
				secret = st.WebhookSecrets[0]
			}
			s.dev = NewDev(secret, cfg.PublicURL, st.WebhookTolerance)
			s.provider = s.dev
			cfg.Log.Warn("payments: development provider enabled; anyone can fake a payment, never use it in production")
		case "stripe":
			p, err := NewStripe(StripeConfig{SecretKey: st.StripeSecretKey, WebhookSecrets: st.WebhookSecrets, APIURL: st.StripeAPIURL,
				SuccessURL: st.SuccessURL, CancelURL: st.CancelURL, Tolerance: st.WebhookTolerance})
			if err != nil {
				return nil, fmt.Errorf("payments: %w", err)
			}
			s.provider = p
		}
	}
	if d, ok := s.provider.(*Dev); ok {
		s.dev = d
	}
	return s, nil
}

// Provider returns the configured gateway, or nil when top-ups are disabled.
func (s *Service) Provider() Provider { return s.provider }

// Dev returns the development gateway, or nil when another is configured.
func (s *Service) Dev() *Dev { return s.dev }

// Routes registers POST /store/checkout and POST /payments/webhook/{provider},
// plus the development gateway's simulation endpoints when it is enabled.
func (s *Service) Routes(mux economy.Mux, wrap func(http.Handler) http.Handler) {
	h := func(f httpx.HandlerFunc) http.Handler { return wrap(httpx.Handle(s.log, f)) }
	player := authn.Player(s.cfg.Verifier)
	mux.Handle("POST /store/checkout", h(player(s.checkout)))
	mux.Handle("POST /payments/webhook/{provider}", h(s.webhook))
	if s.dev != nil {
		admin := authn.Admin(s.cfg.AdminToken)
		mux.Handle("POST /payments/dev/checkout/{ref}/complete", h(player(s.devAction(devComplete))))
		mux.Handle("POST /payments/dev/checkout/{ref}/expire", h(player(s.devAction(devExpire))))
		mux.Handle("POST /payments/dev/checkout/{ref}/refund", h(admin(s.devAction(devRefund))))
		mux.Handle("POST /payments/dev/checkout/{ref}/dispute", h(admin(s.devAction(devDispute))))
	}
}
