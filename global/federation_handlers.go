package global

import (
	"context"

	"github.com/atollgg/atoll/contract"
	"github.com/atollgg/atoll/global/federation"
	"github.com/atollgg/atoll/global/matches"
	"github.com/jackc/pgx/v5"
)

// addFederationHandlers applies cells' match.completed events from the hub:
// match history, xp and rewards ("progression") and the global leaderboards
// ("leaderboards"), each exactly once in the federation's transaction. The
// leaderboards' memory follows by its refresh loop. Nothing without a hub.
func (s *Server) addFederationHandlers() error {
	if s.Federation == nil {
		return nil
	}
	if err := s.Federation.Handle("progression", contract.KindMatchCompleted,
		func(ctx context.Context, tx pgx.Tx, ev federation.Event) error {
			return s.Matches.ApplyEvent(ctx, tx, ev.CellID, ev.Data)
		}); err != nil {
		return err
	}
	return s.Federation.Handle("leaderboards", contract.KindMatchCompleted,
		func(ctx context.Context, tx pgx.Tx, ev federation.Event) error {
			mc, err := matches.DecodeEvent(ev.CellID, ev.Data)
			if err != nil {
				return err
			}
			return s.Leaderboards.ApplyMatchCompleted(ctx, tx, mc)
		})
}
