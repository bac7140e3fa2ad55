// Package leaderboard owns the global leaderboards in the core: scores
// persisted in the database, applied exactly once from match.completed
// events, ranked by an in-memory index rebuilt at start, and served over
// HTTP.
package leaderboard

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/atollgg/atoll/contract"
	"github.com/atollgg/atoll/internal/authn"
	"github.com/atollgg/atoll/internal/boardapi"
	"github.com/atollgg/atoll/internal/db"
	"github.com/atollgg/atoll/internal/rank"
	"github.com/atollgg/atoll/internal/tokens"
)

// Defaults and limits.
const (
	// DefaultRefreshInterval is how often the index reads rows other
	// replicas of the core wrote: a couple of seconds of staleness on a
	// leaderboard nobody notices.
	DefaultRefreshInterval = 2 * time.Second
	// archiveIdle drops a past season from memory when nobody read it for
	// this long; it is reloaded from the database on the next read.
	archiveIdle = 10 * time.Minute
	// queryTimeout bounds one load or re-read.
	queryTimeout = 30 * time.Second
	// AppliedRetention is how long applied rows (match results and grant
	// keys) are remembered: far beyond the cells' streams' 7-day max age,
	// so no redelivery outlives its row. A grant retried later counts again.
	AppliedRetention = 30 * 24 * time.Hour
	// pruneInterval is how often expired applied rows are deleted.
	pruneInterval = time.Hour
	// pruneBatch bounds one delete statement, keeping its transaction short.
	pruneBatch = 10000
)

// Config is the global boards' whole configuration.
type Config struct {
	// DB is the global database. Required.
	DB *db.DB
	// Definitions are the boards; only global ones are kept here.
	Definitions []contract.LeaderboardDefinition
	// Verifier checks players' access tokens for around=me. Required.
	Verifier *tokens.Verifier
	// CellTokens are the service credentials allowed to grant scores
	// (POST /internal/v1/leaderboards/{name}/scores); empty refuses every
	// grant.
	CellTokens authn.Secrets
	// CellScopes are the credentials' scopes; a grant needs
	// authn.ScopeLeaderboardsGrant. Nil gives every credential
	// authn.DefaultScopes, which do not include it.
	CellScopes authn.Scopes
	// Log is the logger. Required.
	Log *slog.Logger
	// RefreshInterval is how often rows written by other replicas are read;
	// zero means DefaultRefreshInterval.
	RefreshInterval time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Service is the core's global leaderboards.
type Service struct {
	cfg    Config
	log    *slog.Logger
	defs   map[string]*contract.LeaderboardDefinition
	boards *rank.Boards
	api    *boardapi.API

	// memMu serializes every database read that feeds the index (loads,
	// re-reads after commit, refreshes), so an older read never lands after
	// a newer one. It is held across queries; readers of the API never
	// take it once their season is loaded.
	memMu     sync.Mutex
	watermark time.Time // guarded by memMu: written_at the next refresh reads from

	mu     sync.Mutex              // guards following
	loaded map[seasonKey]time.Time // fully loaded seasons and when last read
	erased map[string]bool         // players erased since start: never re-added
}

type seasonKey struct{ board, season string }

// New checks cfg, loads every global board's current season from the
// database and returns the service.
func New(ctx context.Context, cfg Config) (*Service, error) {
	if cfg.DB == nil || cfg.Verifier == nil || cfg.Log == nil {
		return nil, errors.New("leaderboard: database, verifier and logger are required")
	}
	defs := append([]contract.LeaderboardDefinition(nil), cfg.Definitions...)
	if err := contract.ValidateLeaderboards(defs); err != nil {
		return nil, err
	}
	if cfg.RefreshInterval <= 0 {
		cfg.RefreshInterval = DefaultRefreshInterval
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	s := &Service{cfg: cfg, log: cfg.Log.With("component", "leaderboards"), defs: map[string]*contract.LeaderboardDefinition{},
		boards: rank.NewBoards(), loaded: map[seasonKey]time.Time{}, erased: map[string]bool{}}
	for i := range defs {
		if defs[i].Scope == contract.ScopeGlobal {
			s.defs[defs[i].Name] = &defs[i]
		}
	}
	var err error
	if s.api, err = boardapi.New(boardapi.Config{Scope: contract.ScopeGlobal, Definitions: defs, Boards: s.boards,
		Verifier: cfg.Verifier, Log: s.log, Now: cfg.Now, Before: s.beforeRead}); err != nil {
		return nil, err
	}
	s.memMu.Lock()
	defer s.memMu.Unlock()
	// The watermark starts before the loads, so the first refresh re-reads
	// whatever was written while they ran.
	if err := s.cfg.DB.Pool.QueryRow(ctx, `SELECT now()`).Scan(&s.watermark); err != nil {
		return nil, fmt.Errorf("load leaderboards: %w", err)
	}
	now := cfg.Now()
	for name, d := range s.defs {
		if err := s.loadLocked(ctx, d, d.Season(now)); err != nil {
			return nil, fmt.Errorf("load leaderboard %s: %w", name, err)
		}
	}
	return s, nil
}

// Routes registers the read API (GET /leaderboards/{name} and
// GET /leaderboards/{name}/players/{id}) for the global boards, and the
// services' score grant (POST /internal/v1/leaderboards/{name}/scores).
func (s *Service) Routes(mux *http.ServeMux, wrap func(http.Handler) http.Handler) {
	s.api.Routes(mux, wrap)
	s.grantRoutes(mux, wrap)
}

// Run refreshes the index from rows other replicas wrote, drops idle past
// seasons and prunes expired applied rows, until ctx ends.
func (s *Service) Run(ctx context.Context) {
	t := time.NewTicker(s.cfg.RefreshInterval)
	defer t.Stop()
	prune := time.NewTicker(pruneInterval)
	defer prune.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-prune.C:
			if n, err := s.PruneApplied(ctx); err != nil && ctx.Err() == nil {
				s.log.Warn("prune applied leaderboard rows", "err", err)
			} else if n > 0 {
				s.log.Info("pruned applied leaderboard rows", "rows", n)
			}
		case <-t.C:
			if err := s.Refresh(ctx); err != nil && ctx.Err() == nil {
				s.log.Warn("refresh leaderboards", "err", err)
			}
			s.dropIdle()
		}
	}
}

func orderOf(d *contract.LeaderboardDefinition) rank.Order {
	if d.Order == contract.OrderAsc {
		return rank.Asc
	}
	return rank.Desc
}

// PruneApplied deletes applied rows older than AppliedRetention, in
// batches, and returns how many it deleted.
func (s *Service) PruneApplied(ctx context.Context) (int64, error) {
	var total int64
	for {
		cutoff := s.cfg.Now().Add(-AppliedRetention)
		tag, err := s.cfg.DB.Pool.Exec(ctx, `DELETE FROM leaderboard_applied WHERE (session_id, leaderboard, player_id) IN
			(SELECT session_id, leaderboard, player_id FROM leaderboard_applied WHERE applied_at < $1 LIMIT `+fmt.Sprint(pruneBatch)+`)`, cutoff)
		if err != nil {
			return total, fmt.Errorf("prune applied leaderboard rows: %w", err)
		}
		total += tag.RowsAffected()
		if tag.RowsAffected() < pruneBatch {
			return total, nil
		}
	}
}
