package matches

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/atollgg/atoll/global/economy"
	"github.com/atollgg/atoll/global/ratings"
	"github.com/atollgg/atoll/internal/authn"
	"github.com/atollgg/atoll/internal/db"
	"github.com/atollgg/atoll/internal/httpx"
	"github.com/atollgg/atoll/internal/tokens"
)

// Config is the matches service's whole configuration.
type Config struct {
	// DB is the global database. Required.
	DB *db.DB
	// Economy grants xp and rewards through its ledger. Required.
	Economy *economy.Service
	// Ratings rates players. Required.
	Ratings *ratings.Service
	// Verifier checks players' access tokens. Required.
	Verifier *tokens.Verifier
	// Settings are the operator's per-mode rewards.
	Settings Settings
	// Log is the logger. Required.
	Log *slog.Logger
}

// Service applies finished matches and serves match history. It starts no
// goroutines, so it needs no shutdown.
type Service struct {
	cfg     Config
	rewards Rewards
}

// New validates cfg, including the rewards' currencies against the
// economy's.
func New(cfg Config) (*Service, error) {
	if cfg.DB == nil || cfg.Economy == nil || cfg.Ratings == nil || cfg.Verifier == nil || cfg.Log == nil {
		return nil, errors.New("matches: database, economy, ratings, token verifier and logger are required")
	}
	if err := cfg.Settings.Validate(); err != nil {
		return nil, fmt.Errorf("matches: %w", err)
	}
	rw := cfg.Settings.Rewards
	if rw == nil {
		soft := ""
		for _, c := range cfg.Economy.Currencies() {
			if !c.Premium {
				soft = c.Code
				break
			}
		}
		rw = DefaultRewards(soft)
	}
	if err := rw.checkCurrencies(cfg.Economy.Currencies()); err != nil {
		return nil, fmt.Errorf("matches: %w", err)
	}
	return &Service{cfg: cfg, rewards: rw}, nil
}

// Mux is where routes are registered; *http.ServeMux is one.
type Mux interface {
	Handle(pattern string, handler http.Handler)
}

// Routes registers GET /player/me/matches, described in openapi.yaml.
func (s *Service) Routes(mux Mux, wrap func(http.Handler) http.Handler) {
	player := authn.Player(s.cfg.Verifier)
	mux.Handle("GET /player/me/matches", wrap(httpx.Handle(s.cfg.Log, player(s.listMatches))))
}
