package leaderboard

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/atollgg/atoll/contract"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// maxPlayersPerMatch bounds the rows one event writes: the largest lobby is
// 100 players; more is not a real match.
const maxPlayersPerMatch = 1000

// upsertSQL is one (board, player) write: the applied-row insert and the
// score upsert in one statement, so a redelivered event or a retried
// transaction finds its applied row and writes nothing. A player whose
// account is erased (a tombstone row) never gets a score again. The
// operator expressions mirror rank.Combine: every operator is
// order-independent.
const upsertSQL = `WITH fresh AS (
	INSERT INTO leaderboard_applied (session_id, leaderboard, player_id) VALUES ($1, $2, $3)
	ON CONFLICT DO NOTHING RETURNING player_id)
INSERT INTO leaderboard_scores AS s (leaderboard, season, player_id, score, updated_at)
SELECT $2::TEXT, $4::TEXT, fresh.player_id, $5::BIGINT, $6::TIMESTAMPTZ FROM fresh
WHERE NOT EXISTS (SELECT 1 FROM players p WHERE p.id = fresh.player_id AND p.deleted_at IS NOT NULL)
ON CONFLICT (leaderboard, season, player_id) DO UPDATE SET %s, written_at = now()`

var operatorSQL = map[string]string{
	contract.OperatorBest + "/" + contract.OrderDesc: `score = GREATEST(s.score, excluded.score),
		updated_at = CASE WHEN excluded.score > s.score THEN excluded.updated_at
			WHEN excluded.score = s.score THEN LEAST(s.updated_at, excluded.updated_at) ELSE s.updated_at END`,
	contract.OperatorBest + "/" + contract.OrderAsc: `score = LEAST(s.score, excluded.score),
		updated_at = CASE WHEN excluded.score < s.score THEN excluded.updated_at
			WHEN excluded.score = s.score THEN LEAST(s.updated_at, excluded.updated_at) ELSE s.updated_at END`,
	contract.OperatorSet: `score = CASE WHEN excluded.updated_at > s.updated_at
			OR (excluded.updated_at = s.updated_at AND excluded.score > s.score) THEN excluded.score ELSE s.score END,
		updated_at = GREATEST(s.updated_at, excluded.updated_at)`,
	contract.OperatorIncrement: `score = s.score + excluded.score, updated_at = GREATEST(s.updated_at, excluded.updated_at)`,
}

func statement(d *contract.LeaderboardDefinition) string {
	key := d.Operator
	if d.Operator == contract.OperatorBest {
		key += "/" + d.Order
	}
	return fmt.Sprintf(upsertSQL, operatorSQL[key])
}

func validateEvent(ev contract.MatchCompleted) error {
	switch {
	case ev.SessionID == "":
		return errors.New("no session_id")
	case ev.EndedAt.IsZero():
		return errors.New("no ended_at")
	case len(ev.Players) > maxPlayersPerMatch:
		return fmt.Errorf("%d players, at most %d", len(ev.Players), maxPlayersPerMatch)
	}
	for i, p := range ev.Players {
		if _, err := uuid.Parse(p.PlayerID); err != nil || len(p.PlayerID) != 36 {
			return fmt.Errorf("player %d: player_id is not a UUID", i+1)
		}
	}
	return nil
}

// sortedDefs is the global boards in name order, so every transaction
// writes rows in the same order.
func (s *Service) sortedDefs() []*contract.LeaderboardDefinition {
	out := make([]*contract.LeaderboardDefinition, 0, len(s.defs))
	for _, d := range s.defs {
		out = append(out, d)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// ApplyMatchCompleted writes the match's results to every global board
// through tx, exactly once per (match, board, player) whatever the number
// of deliveries or transaction retries. Memory is untouched: call
// AfterMatchCompleted once tx has committed. An invalid event wraps
// contract.ErrInvalidEvent.
func (s *Service) ApplyMatchCompleted(ctx context.Context, tx pgx.Tx, ev contract.MatchCompleted) error {
	if err := validateEvent(ev); err != nil {
		return fmt.Errorf("leaderboards: %w: %v", contract.ErrInvalidEvent, err)
	}
	ended := ev.EndedAt.UTC().Truncate(time.Microsecond) // the database's precision
	b := &pgx.Batch{}
	for _, d := range s.sortedDefs() {
		season := d.Season(ended)
		sql := statement(d)
		for _, p := range ev.Players {
			v, ok := d.Value(ev.GameMode, p)
			if !ok {
				continue
			}
			b.Queue(sql, ev.SessionID, d.Name, p.PlayerID, season, v, ended)
		}
	}
	if b.Len() == 0 {
		return nil
	}
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("apply match to leaderboards: %w", err)
	}
	return nil
}

// AfterMatchCompleted brings the in-memory index up to date with the
// database after the transaction of ApplyMatchCompleted committed. It reads
// the resulting rows (so a duplicate call or a redelivery changes nothing)
// and is safe to call more than once.
func (s *Service) AfterMatchCompleted(ctx context.Context, ev contract.MatchCompleted) error {
	if validateEvent(ev) != nil {
		return nil
	}
	ended := ev.EndedAt.UTC()
	var keys []scoreKey
	for _, d := range s.sortedDefs() {
		season := d.Season(ended)
		touched := false
		for _, p := range ev.Players {
			if _, ok := d.Value(ev.GameMode, p); ok {
				keys = append(keys, scoreKey{d.Name, season, p.PlayerID})
				touched = true
			}
		}
		if touched {
			if err := s.ensureLoaded(ctx, d, season); err != nil {
				return fmt.Errorf("update leaderboards after commit: %w", err)
			}
		}
	}
	if err := s.reread(ctx, keys); err != nil {
		return fmt.Errorf("update leaderboards after commit: %w", err)
	}
	return nil
}
