package leaderboard

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/atollgg/atoll/contract"
	"github.com/atollgg/atoll/internal/authn"
	"github.com/atollgg/atoll/internal/httpx"
	"github.com/atollgg/atoll/internal/rank"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// Limits of score grants.
const (
	// maxGrantBody bounds a grant's body: four short fields.
	maxGrantBody = 4 << 10
	// maxGrantKey bounds an idempotency key ("achievement:<uuid>:<uuid>").
	maxGrantKey = 128
	// maxGrantValue bounds one grant's value, keeping increment sums far
	// from int64 overflow.
	maxGrantValue = 1_000_000_000_000
	// maxGrantSkew is how far in the future a grant's time may be: clock
	// skew between servers, not scheduled scores.
	maxGrantSkew = 5 * time.Minute
)

// grantKeyPrefix keeps grant keys apart from match session ids in
// leaderboard_applied.
const grantKeyPrefix = "grant:"

// routes registers the score grant, for services with a credential.
func (s *Service) grantRoutes(mux *http.ServeMux, wrap func(http.Handler) http.Handler) {
	auth := authn.ServiceScoped(s.cfg.CellTokens, s.cfg.CellScopes, authn.ScopeLeaderboardsGrant)
	mux.Handle("POST "+contract.LeaderboardScoresPath, wrap(httpx.Handle(s.log, auth(s.handleGrant))))
}

func (s *Service) handleGrant(w http.ResponseWriter, r *http.Request) error {
	d, ok := s.defs[r.PathValue("name")]
	if !ok {
		return httpx.NotFound("no such global leaderboard")
	}
	var g contract.LeaderboardScoreGrant
	if err := httpx.DecodeJSON(w, r, &g, maxGrantBody); err != nil {
		return err
	}
	entry, found, err := s.GrantScore(r.Context(), d.Name, g)
	if err != nil {
		return err
	}
	if !found {
		return httpx.NotFound("the player's account is erased")
	}
	httpx.WriteJSON(w, http.StatusOK, entry)
	return nil
}

// GrantScore applies a server-side score to a global board exactly once per
// (key, board, player) and returns the player's resulting entry; found is
// false when the player is erased. Validation failures are *httpx.Error.
func (s *Service) GrantScore(ctx context.Context, board string, g contract.LeaderboardScoreGrant) (contract.LeaderboardPlayer, bool, error) {
	d, ok := s.defs[board]
	if !ok {
		return contract.LeaderboardPlayer{}, false, httpx.NotFound("no such global leaderboard")
	}
	now := s.cfg.Now()
	switch {
	case len(g.PlayerID) != 36 || uuid.Validate(g.PlayerID) != nil:
		return contract.LeaderboardPlayer{}, false, httpx.BadRequest("player_id is not a UUID")
	case g.IdempotencyKey == "" || len(g.IdempotencyKey) > maxGrantKey:
		return contract.LeaderboardPlayer{}, false, httpx.BadRequest("idempotency_key must be 1 to %d bytes", maxGrantKey)
	case g.Value > maxGrantValue || g.Value < -maxGrantValue:
		return contract.LeaderboardPlayer{}, false, httpx.BadRequest("value must be within ±%d", int64(maxGrantValue))
	case g.At.After(now.Add(maxGrantSkew)):
		return contract.LeaderboardPlayer{}, false, httpx.BadRequest("at is in the future")
	}
	at := g.At
	if at.IsZero() {
		at = now
	}
	at = at.UTC().Truncate(time.Microsecond)
	season := d.Season(at)
	if err := s.cfg.DB.RunTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		_, err := tx.Exec(ctx, statement(d), grantKeyPrefix+g.IdempotencyKey, d.Name, g.PlayerID, season, g.Value, at)
		return err
	}); err != nil {
		return contract.LeaderboardPlayer{}, false, fmt.Errorf("grant leaderboard score: %w", err)
	}
	if err := s.ensureLoaded(ctx, d, season); err != nil {
		return contract.LeaderboardPlayer{}, false, err
	}
	if err := s.reread(ctx, []scoreKey{{d.Name, season, g.PlayerID}}); err != nil {
		return contract.LeaderboardPlayer{}, false, err
	}
	out := contract.LeaderboardPlayer{Leaderboard: d.Name, Season: season, Scope: d.Scope}
	found := false
	s.boards.Read(d.Name, season, func(x *rank.Index) {
		if x == nil {
			return
		}
		if e, ok := x.Get(g.PlayerID); ok {
			rk, _ := x.Rank(g.PlayerID)
			out.Total, found = x.Len(), true
			out.Entry = contract.LeaderboardEntry{PlayerID: e.ID, Score: e.Score, Rank: rk, Updated: time.UnixMicro(e.Updated).UTC()}
		}
	})
	return out, found, nil
}
