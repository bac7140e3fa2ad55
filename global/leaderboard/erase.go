package leaderboard

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Erase deletes the player's scores and applied rows in tx (a
// players.EraseFunc) and removes them from memory at once. Late events for
// the player write nothing: their account is a tombstone. If tx rolls back,
// the player stays out of memory until the next start, which is the safe
// side of an erasure.
func (s *Service) Erase(ctx context.Context, tx pgx.Tx, playerID string) error {
	for _, q := range []string{
		`DELETE FROM leaderboard_scores WHERE player_id = $1`,
		`DELETE FROM leaderboard_applied WHERE player_id = $1`,
	} {
		if _, err := tx.Exec(ctx, q, playerID); err != nil {
			return fmt.Errorf("erase leaderboard scores: %w", err)
		}
	}
	s.mu.Lock()
	s.erased[playerID] = true
	s.mu.Unlock()
	s.boards.RemovePlayer(playerID)
	return nil
}

// ExportRow is one of a player's scores in their data export.
type ExportRow struct {
	Leaderboard string    `json:"leaderboard"`
	Season      string    `json:"season"`
	Score       int64     `json:"score"`
	Updated     time.Time `json:"updated"`
}

// maxExportRows bounds one export: a player has a row per board and season.
const maxExportRows = 10000

// Export returns the player's scores on every global board and season (a
// players.ExportFunc).
func (s *Service) Export(ctx context.Context, playerID string) (any, error) {
	ctx, cancel := context.WithTimeout(ctx, queryTimeout)
	defer cancel()
	rows, err := s.cfg.DB.Pool.Query(ctx, `SELECT leaderboard, season, score, updated_at FROM leaderboard_scores
		WHERE player_id = $1 ORDER BY leaderboard, season LIMIT `+fmt.Sprint(maxExportRows), playerID)
	if err != nil {
		return nil, fmt.Errorf("export leaderboard scores: %w", err)
	}
	out := []ExportRow{}
	var r ExportRow
	if _, err := pgx.ForEachRow(rows, []any{&r.Leaderboard, &r.Season, &r.Score, &r.Updated}, func() error {
		out = append(out, r)
		return nil
	}); err != nil {
		return nil, fmt.Errorf("export leaderboard scores: %w", err)
	}
	return out, nil
}
