package global

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/atollgg/atoll/contract"
	"github.com/atollgg/atoll/global/federation"
	"github.com/jackc/pgx/v5"
)

// Federation handler names: each is a durable consumer (fed_<name>) on
// CELL_EVENTS with its own applied-markers, so renaming one replays every
// event still in the stream into it.
const (
	handlerMatches      = "matches"
	handlerLeaderboards = "leaderboards"
	// afterCommitTimeout bounds re-reading one match's board rows into
	// memory: a few indexed reads; past it the refresh loop repairs the
	// index, so the consumer is never held up long.
	afterCommitTimeout = 5 * time.Second
)

// wireFederation registers the appliers of the cells' events with the
// federation (a no-op without a hub): match.completed feeds progression
// (xp, rewards, ratings, history) and the global leaderboards, each
// exactly once in its own transaction.
func (s *Server) wireFederation() error {
	if s.Federation == nil {
		return nil
	}
	if err := s.Federation.Handle(handlerMatches, contract.KindMatchCompleted,
		func(ctx context.Context, tx pgx.Tx, ev federation.Event) error {
			mc, err := decodeMatchCompleted(ev)
			if err != nil {
				return err
			}
			return s.Matches.ApplyMatchCompleted(ctx, tx, mc)
		}); err != nil {
		return err
	}
	if s.Leaderboards == nil {
		return nil
	}
	return s.Federation.HandleWithAfterCommit(handlerLeaderboards, contract.KindMatchCompleted,
		func(ctx context.Context, tx pgx.Tx, ev federation.Event) error {
			mc, err := decodeMatchCompleted(ev)
			if err != nil {
				return err
			}
			return s.Leaderboards.ApplyMatchCompleted(ctx, tx, mc)
		}, s.afterLeaderboards)
}

// afterLeaderboards brings the global boards' in-memory index up to date
// once an event's transaction committed. A miss (error, crash) is repaired
// by the boards' refresh loop within seconds and by every start.
func (s *Server) afterLeaderboards(ev federation.Event) {
	mc, err := decodeMatchCompleted(ev)
	if err != nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), afterCommitTimeout)
	defer cancel()
	if err := s.Leaderboards.AfterMatchCompleted(ctx, mc); err != nil {
		s.log.Warn("leaderboards after commit", "cell", ev.CellID, "session", mc.SessionID, "err", err)
	}
}

// decodeMatchCompleted reads a cell's match.completed; an undecodable body,
// or one naming another cell than the subject it was published under (which
// the hub's leaf permissions tie to the publishing cell), is poison.
func decodeMatchCompleted(ev federation.Event) (contract.MatchCompleted, error) {
	var mc contract.MatchCompleted
	if err := json.Unmarshal(ev.Data, &mc); err != nil {
		return mc, federation.Poison(fmt.Errorf("decode match.completed: %w", err))
	}
	if mc.CellID != ev.CellID {
		return mc, federation.Poison(fmt.Errorf("match.completed from cell %q names cell %q", ev.CellID, mc.CellID))
	}
	return mc, nil
}
