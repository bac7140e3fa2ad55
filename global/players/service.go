package players

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"sync"

	"github.com/atollgg/atoll/internal/authn"
	"github.com/atollgg/atoll/internal/db"
	"github.com/atollgg/atoll/internal/httpx"
	"github.com/atollgg/atoll/internal/pii"
	"github.com/atollgg/atoll/internal/tokens"
	"github.com/jackc/pgx/v5"
)

// ExportFunc returns one service's data about a player for GET /player/me/export.
type ExportFunc func(ctx context.Context, playerID string) (any, error)

// EraseFunc removes or anonymises one service's personal data about a player,
// inside the erasure transaction.
type EraseFunc func(ctx context.Context, tx pgx.Tx, playerID string) error

// Config is the players service's whole configuration.
type Config struct {
	DB       *db.DB
	Verifier *tokens.Verifier
	PII      *pii.Keyring
	Log      *slog.Logger
}

// Service implements the /player routes.
type Service struct {
	cfg Config

	mu      sync.Mutex // guards following
	exports map[string]ExportFunc
	erasers map[string]EraseFunc
}

// New builds the service.
func New(cfg Config) (*Service, error) {
	if cfg.DB == nil || cfg.Verifier == nil || cfg.PII == nil || cfg.Log == nil {
		return nil, errors.New("players: database, verifier, PII keys and logger are required")
	}
	return &Service{cfg: cfg, exports: map[string]ExportFunc{}, erasers: map[string]EraseFunc{}}, nil
}

// AddExport registers another service's section of the export (e.g. "economy").
func (s *Service) AddExport(section string, f ExportFunc) {
	s.mu.Lock()
	s.exports[section] = f
	s.mu.Unlock()
}

// AddEraser registers another service's part of an erasure.
func (s *Service) AddEraser(name string, f EraseFunc) {
	s.mu.Lock()
	s.erasers[name] = f
	s.mu.Unlock()
}

// Routes registers the /player endpoints.
func (s *Service) Routes(mux *http.ServeMux, wrap func(http.Handler) http.Handler) {
	auth := authn.Player(s.cfg.Verifier)
	h := func(f httpx.HandlerFunc) http.Handler { return wrap(httpx.Handle(s.cfg.Log, auth(f))) }
	mux.Handle("GET /player/{playerId}/profile", h(s.profile))
	mux.Handle("PATCH /player/me", h(s.update))
	mux.Handle("GET /player/me/export", h(s.export))
	mux.Handle("DELETE /player/me", h(s.erase))
}
