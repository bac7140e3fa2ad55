package global

import (
	"context"

	"github.com/atollgg/atoll/contract"
	"github.com/atollgg/atoll/global/leaderboard"
)

// addLeaderboards builds the global leaderboards from cfg.LeaderboardsFile
// (or cfg.Leaderboards), serves their read API, and joins them to players'
// export and erasure. The federation's match.completed consumer calls
// s.Leaderboards.ApplyMatchCompleted in its transaction and
// AfterMatchCompleted after the commit.
func (s *Server) addLeaderboards(ctx context.Context) error {
	defs := s.cfg.Leaderboards
	if s.cfg.LeaderboardsFile != "" {
		var err error
		if defs, err = contract.LoadLeaderboards(s.cfg.LeaderboardsFile); err != nil {
			return err
		}
	}
	lb, err := leaderboard.New(ctx, leaderboard.Config{DB: s.DB, Definitions: defs, Verifier: s.Verifier,
		CellTokens: s.cfg.CellTokens, CellScopes: s.cfg.CellScopes, Log: s.log})
	if err != nil {
		return err
	}
	s.Leaderboards = lb
	lb.Routes(s.mux, s.wrap)
	s.Players.AddExport("leaderboards", lb.Export)
	s.Players.AddEraser("leaderboards", lb.Erase)
	return nil
}
