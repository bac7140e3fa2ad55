// Package ratings owns players' per-mode skill ratings in the global core and
// the read API cells fetch them from with their service credential.
package ratings

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"time"

	"github.com/atollgg/atoll/contract"
	"github.com/atollgg/atoll/internal/authn"
	"github.com/atollgg/atoll/internal/db"
	"github.com/atollgg/atoll/internal/httpx"
	"github.com/google/uuid"
)

// Limits of the read API.
const (
	// MaxPlayersPerRequest bounds one lookup (contract.MaxRatingsPerRequest).
	MaxPlayersPerRequest = contract.MaxRatingsPerRequest
	// queryTimeout bounds the lookup so a slow database answers cells with
	// an error they fall back from instead of a hanging request.
	queryTimeout = 3 * time.Second
	// maxTau bounds Glicko-2's system constant: the paper suggests 0.3-1.2;
	// far above that every result swings ratings wildly.
	maxTau = 3.0
	// minIdlePeriod bounds the idle rating period from below: shorter, and
	// a few minutes between matches would reset every deviation to a
	// newcomer's.
	minIdlePeriod = time.Hour
)

var modePattern = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,63}$`)

// ValidMode reports whether name can be a game mode name.
func ValidMode(name string) bool { return modePattern.MatchString(name) }

// Config is the ratings service's whole configuration.
type Config struct {
	// DB is the global database. Required.
	DB *db.DB
	// CellTokens are the cells' service credentials; only they may read
	// ratings over HTTP. An empty set refuses every request.
	CellTokens authn.Secrets
	// CellScopes say what each cell token may do; nil means
	// authn.DefaultScopes (which include ratings:read) for every cell.
	CellScopes authn.Scopes
	// Log is the logger. Required.
	Log *slog.Logger
	// Tau is Glicko-2's system constant, how fast volatility may move; zero
	// means DefaultTau.
	Tau float64
	// IdlePeriod is the Glicko-2 rating period for idle time: a rating's
	// deviation grows as if the player sat out one period per IdlePeriod
	// since their last rated match (ATOLL_RATING_IDLE_PERIOD, e.g. 24h).
	// Zero means deviations do not grow with time, only with play.
	IdlePeriod time.Duration
}

// Service serves ratings.
type Service struct{ cfg Config }

// New checks cfg and returns the service.
func New(cfg Config) (*Service, error) {
	if cfg.DB == nil || cfg.Log == nil {
		return nil, errors.New("ratings: database and logger are required")
	}
	if cfg.Tau < 0 || cfg.Tau > maxTau {
		return nil, fmt.Errorf("ratings: tau must be between 0 and %g", maxTau)
	}
	if cfg.IdlePeriod < 0 || (cfg.IdlePeriod > 0 && cfg.IdlePeriod < minIdlePeriod) {
		return nil, fmt.Errorf("ratings: the idle rating period must be zero (off) or at least %s", minIdlePeriod)
	}
	return &Service{cfg: cfg}, nil
}

// Rating is one player's rating in one mode (the cells' wire contract).
type Rating = contract.Rating

// Response is the body of GET /internal/v1/ratings (the cells' wire contract).
type Response = contract.RatingsResponse

// Routes registers GET /internal/v1/ratings, for cells only.
func (s *Service) Routes(mux *http.ServeMux, wrap func(http.Handler) http.Handler) {
	auth := authn.ServiceScoped(s.cfg.CellTokens, s.cfg.CellScopes, authn.ScopeRatingsRead)
	mux.Handle("GET "+contract.RatingsPath, wrap(httpx.Handle(s.cfg.Log, auth(s.get))))
}

func (s *Service) get(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	for k := range q {
		if k != "mode" && k != "player_id" {
			return httpx.BadRequest("unknown query parameter %q (want mode and player_id)", k)
		}
	}
	modes := q["mode"]
	if len(modes) != 1 || !ValidMode(modes[0]) {
		return httpx.BadRequest("exactly one valid mode is required")
	}
	ids := q["player_id"]
	if len(ids) == 0 {
		return httpx.BadRequest("at least one player_id is required")
	}
	if len(ids) > MaxPlayersPerRequest {
		return httpx.BadRequest("at most %d player_id values per request, got %d", MaxPlayersPerRequest, len(ids))
	}
	for i, id := range ids {
		if _, err := uuid.Parse(id); err != nil || len(id) != 36 {
			return httpx.BadRequest("player_id %d is not a UUID", i+1)
		}
	}
	out, err := s.Lookup(r.Context(), modes[0], ids)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, Response{Mode: modes[0], Ratings: out})
	return nil
}

// Lookup returns the stored ratings of players in mode; players without one
// are left out.
func (s *Service) Lookup(ctx context.Context, mode string, playerIDs []string) ([]Rating, error) {
	ctx, cancel := context.WithTimeout(ctx, queryTimeout)
	defer cancel()
	rows, err := s.cfg.DB.Pool.Query(ctx,
		`SELECT player_id::TEXT, rating, games FROM ratings WHERE mode = $1 AND player_id = ANY($2::UUID[]) ORDER BY player_id`,
		mode, playerIDs)
	if err != nil {
		return nil, fmt.Errorf("look up ratings: %w", err)
	}
	defer rows.Close()
	out := []Rating{}
	for rows.Next() {
		var rt Rating
		if err := rows.Scan(&rt.PlayerID, &rt.Rating, &rt.Games); err != nil {
			return nil, fmt.Errorf("look up ratings: %w", err)
		}
		out = append(out, rt)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("look up ratings: %w", err)
	}
	return out, nil
}

// Export returns a player's ratings in every mode, for the player's data
// export (players.Service.AddExport).
func (s *Service) Export(ctx context.Context, playerID string) (any, error) {
	ctx, cancel := context.WithTimeout(ctx, queryTimeout)
	defer cancel()
	rows, err := s.cfg.DB.Pool.Query(ctx, `SELECT mode, rating, rd, volatility, games, updated_at FROM ratings WHERE player_id = $1 ORDER BY mode`, playerID)
	if err != nil {
		return nil, fmt.Errorf("export ratings: %w", err)
	}
	defer rows.Close()
	type modeRating struct {
		Mode       string    `json:"mode"`
		Rating     float64   `json:"rating"`
		RD         float64   `json:"rd"`
		Volatility float64   `json:"volatility"`
		Games      int       `json:"games"`
		UpdatedAt  time.Time `json:"updated_at"`
	}
	out := []modeRating{}
	for rows.Next() {
		var m modeRating
		if err := rows.Scan(&m.Mode, &m.Rating, &m.RD, &m.Volatility, &m.Games, &m.UpdatedAt); err != nil {
			return nil, fmt.Errorf("export ratings: %w", err)
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("export ratings: %w", err)
	}
	return out, nil
}
