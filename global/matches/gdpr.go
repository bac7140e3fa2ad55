package matches

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// maxExportMatches bounds the export's history: far above what a player
// plays, low enough to keep one export's memory bounded.
const maxExportMatches = 10000

// Export returns the player's match history, newest first, for
// players.Service.AddExport("matches", ...).
func (s *Service) Export(ctx context.Context, playerID string) (any, error) {
	var out []Match
	cursor := ""
	for len(out) < maxExportMatches {
		page, err := s.History(ctx, playerID, MaxPageSize, cursor)
		if err != nil {
			return nil, fmt.Errorf("export matches: %w", err)
		}
		out = append(out, page.Matches...)
		if page.NextCursor == "" {
			break
		}
		cursor = page.NextCursor
	}
	if out == nil {
		out = []Match{}
	}
	return out, nil
}

// Erase removes the player's rows of match history inside the erasure
// transaction, for players.Service.AddEraser. The matches themselves (mode,
// cell, times, head counts) stay: they name no one. A match.completed event
// applied after the erasure skips the erased player.
func (s *Service) Erase(ctx context.Context, tx pgx.Tx, playerID string) error {
	if _, err := tx.Exec(ctx, `DELETE FROM match_participants WHERE player_id = $1`, playerID); err != nil {
		return fmt.Errorf("erase match history: %w", err)
	}
	return nil
}
