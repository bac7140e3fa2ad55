package cell

import (
	"context"
	"net/http"

	"github.com/atollgg/atoll/cell/leaderboard"
	"github.com/atollgg/atoll/contract"
	"github.com/atollgg/atoll/internal/tokens"
)

// startLeaderboards brings up the regional boards from cfg.LeaderboardsFile
// (or cfg.Leaderboards): snapshot plus stream replay, then live events,
// and serves their read API on mux.
func (c *Cell) startLeaderboards(ctx context.Context, verifier *tokens.Verifier, mux *http.ServeMux) error {
	defs := c.cfg.Leaderboards
	if c.cfg.LeaderboardsFile != "" {
		var err error
		if defs, err = contract.LoadLeaderboards(c.cfg.LeaderboardsFile); err != nil {
			return err
		}
	}
	lb, err := leaderboard.New(leaderboard.Config{CellID: c.cfg.CellID, Definitions: defs, JS: c.Bus.JS, Verifier: verifier, Log: c.log,
		Registry: c.Registry})
	if err != nil {
		return err
	}
	if err := lb.Start(ctx); err != nil {
		return err
	}
	c.Leaderboards = lb
	lb.Routes(mux, func(h http.Handler) http.Handler { return h })
	return nil
}
