package leaderboard

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/atollgg/atoll/contract"
	"github.com/atollgg/atoll/internal/rank"
	"github.com/jackc/pgx/v5"
)

// The in-memory index mirrors leaderboard_scores for every loaded season:
// a board's current season from start, and past seasons on first read. The
// database is the truth; memory is only ever refreshed from what it holds.

// isLoaded reports whether the season is fully in memory, and marks it read.
func (s *Service) isLoaded(k seasonKey) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.loaded[k]; ok {
		s.loaded[k] = s.cfg.Now()
		return true
	}
	return false
}

// ensureLoaded loads the season from the database unless it is in memory.
func (s *Service) ensureLoaded(ctx context.Context, d *contract.LeaderboardDefinition, season string) error {
	if s.isLoaded(seasonKey{d.Name, season}) {
		return nil
	}
	s.memMu.Lock()
	defer s.memMu.Unlock()
	if s.isLoaded(seasonKey{d.Name, season}) {
		return nil
	}
	return s.loadLocked(ctx, d, season)
}

// loadLocked replaces the season in memory with the database's rows; memMu
// is held.
func (s *Service) loadLocked(ctx context.Context, d *contract.LeaderboardDefinition, season string) error {
	ctx, cancel := context.WithTimeout(ctx, queryTimeout)
	defer cancel()
	rows, err := s.cfg.DB.Pool.Query(ctx,
		`SELECT player_id::TEXT, score, updated_at FROM leaderboard_scores WHERE leaderboard = $1 AND season = $2`, d.Name, season)
	if err != nil {
		return fmt.Errorf("load leaderboard season: %w", err)
	}
	x := rank.New(orderOf(d))
	var e rank.Entry
	var updated time.Time
	if _, err := pgx.ForEachRow(rows, []any{&e.ID, &e.Score, &updated}, func() error {
		e.Updated = updated.UnixMicro()
		x.Upsert(e)
		return nil
	}); err != nil {
		return fmt.Errorf("load leaderboard season: %w", err)
	}
	s.boards.DropSeason(d.Name, season)
	x.Each(func(e rank.Entry) bool {
		if !s.isErased(e.ID) {
			s.boards.Upsert(d.Name, season, x.Order(), e)
		}
		return true
	})
	s.mu.Lock()
	s.loaded[seasonKey{d.Name, season}] = s.cfg.Now()
	s.mu.Unlock()
	return nil
}

func (s *Service) isErased(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.erased[id]
}

// beforeRead loads a season on its first read (the API's Before hook).
func (s *Service) beforeRead(r *http.Request, d *contract.LeaderboardDefinition, season string) error {
	if err := s.ensureLoaded(r.Context(), d, season); err != nil {
		return fmt.Errorf("read leaderboard: %w", err)
	}
	return nil
}

type scoreKey struct{ board, season, player string }

// reread copies the database's rows for keys into memory (seasons in memory
// only): a key without a row is removed.
func (s *Service) reread(ctx context.Context, keys []scoreKey) error {
	if len(keys) == 0 {
		return nil
	}
	var boards, seasons, ids []string
	for _, k := range keys {
		boards, seasons, ids = append(boards, k.board), append(seasons, k.season), append(ids, k.player)
	}
	s.memMu.Lock()
	defer s.memMu.Unlock()
	ctx, cancel := context.WithTimeout(ctx, queryTimeout)
	defer cancel()
	rows, err := s.cfg.DB.Pool.Query(ctx, `SELECT leaderboard, season, player_id::TEXT, score, updated_at FROM leaderboard_scores
		WHERE leaderboard = ANY($1) AND season = ANY($2) AND player_id = ANY($3::UUID[])`, boards, seasons, ids)
	if err != nil {
		return fmt.Errorf("re-read leaderboard scores: %w", err)
	}
	found := map[scoreKey]rank.Entry{}
	var k scoreKey
	var e rank.Entry
	var updated time.Time
	if _, err := pgx.ForEachRow(rows, []any{&k.board, &k.season, &e.ID, &e.Score, &updated}, func() error {
		e.Updated = updated.UnixMicro()
		k.player = e.ID
		found[k] = e
		return nil
	}); err != nil {
		return fmt.Errorf("re-read leaderboard scores: %w", err)
	}
	for _, k := range keys {
		d, ok := s.defs[k.board]
		if !ok || !s.isLoaded(seasonKey{k.board, k.season}) {
			continue
		}
		if e, ok := found[k]; ok && !s.isErased(k.player) {
			s.boards.Upsert(k.board, k.season, orderOf(d), e)
		} else {
			s.boards.Delete(k.board, k.season, k.player)
		}
	}
	return nil
}

// refreshOverlapWindow: see Refresh.
const refreshOverlapWindow = 10 * time.Second

// Refresh copies rows written since the last refresh (by this or another
// replica of the core) into the seasons in memory. written_at is each
// writing transaction's start, so a transaction that commits late carries
// an earlier time: every refresh re-reads refreshOverlapWindow before its
// watermark, longer than the core's write transactions last.
func (s *Service) Refresh(ctx context.Context) error {
	s.memMu.Lock()
	defer s.memMu.Unlock()
	ctx, cancel := context.WithTimeout(ctx, queryTimeout)
	defer cancel()
	rows, err := s.cfg.DB.Pool.Query(ctx, `SELECT leaderboard, season, player_id::TEXT, score, updated_at, written_at
		FROM leaderboard_scores WHERE written_at > $1`, s.watermark.Add(-refreshOverlapWindow))
	if err != nil {
		return fmt.Errorf("refresh leaderboards: %w", err)
	}
	var board, season string
	var e rank.Entry
	var updated, written time.Time
	newest := s.watermark
	if _, err := pgx.ForEachRow(rows, []any{&board, &season, &e.ID, &e.Score, &updated, &written}, func() error {
		if written.After(newest) {
			newest = written
		}
		d, ok := s.defs[board]
		if !ok || s.isErased(e.ID) || !s.isLoaded(seasonKey{board, season}) {
			return nil
		}
		e.Updated = updated.UnixMicro()
		s.boards.Upsert(board, season, orderOf(d), e)
		return nil
	}); err != nil {
		return fmt.Errorf("refresh leaderboards: %w", err)
	}
	s.watermark = newest
	return nil
}

// dropIdle forgets past seasons nobody read for archiveIdle.
func (s *Service) dropIdle() {
	now := s.cfg.Now()
	s.memMu.Lock() // no load may run between forgetting and dropping
	defer s.memMu.Unlock()
	s.mu.Lock()
	var drop []seasonKey
	for k, at := range s.loaded {
		d, ok := s.defs[k.board]
		if ok && k.season != d.Season(now) && now.Sub(at) > archiveIdle {
			drop = append(drop, k)
			delete(s.loaded, k)
		}
	}
	s.mu.Unlock()
	for _, k := range drop {
		s.boards.DropSeason(k.board, k.season)
	}
}
