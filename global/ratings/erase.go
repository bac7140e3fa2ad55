package ratings

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// Erase removes the player's ratings in every mode inside the erasure
// transaction, for players.Service.AddEraser: a rating is derived from the
// player's own play and serves no one once they are gone.
func (s *Service) Erase(ctx context.Context, tx pgx.Tx, playerID string) error {
	if _, err := tx.Exec(ctx, `DELETE FROM ratings WHERE player_id = $1`, playerID); err != nil {
		return fmt.Errorf("erase ratings: %w", err)
	}
	return nil
}
