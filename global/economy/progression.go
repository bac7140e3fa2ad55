package economy

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/atollgg/atoll/internal/httpx"
	"github.com/jackc/pgx/v5"
)

// Progression limits.
const (
	// MaxXPGrant bounds one grant's xp: a match awards hundreds, an event
	// thousands; anything near this is a bug upstream.
	MaxXPGrant = 10_000_000
	// maxLevels bounds the thresholds list, which travels in every xp update.
	maxLevels = 1000
)

// DefaultXPThresholds are 49 thresholds (levels 2–50), each level needing
// 100 xp more than the previous one: 100, 300, 600, 1000, …
func DefaultXPThresholds() []int64 {
	out := make([]int64, 49)
	for n := range out {
		k := int64(n + 1)
		out[n] = 100 * k * (k + 1) / 2
	}
	return out
}

// Levels maps total xp to a level. Level 1 needs no xp.
type Levels struct{ thresholds []int64 }

// NewLevels validates thresholds: positive and strictly increasing.
func NewLevels(thresholds []int64) (Levels, error) {
	if len(thresholds) > maxLevels {
		return Levels{}, fmt.Errorf("xp thresholds: at most %d levels", maxLevels)
	}
	prev := int64(0)
	for i, t := range thresholds {
		if t <= prev {
			return Levels{}, fmt.Errorf("xp thresholds: entry %d (%d) must be greater than %d", i+1, t, prev)
		}
		prev = t
	}
	return Levels{thresholds: append([]int64(nil), thresholds...)}, nil
}

// LevelFor returns the level reached with xp total experience.
func (l Levels) LevelFor(xp int64) int {
	lo, hi := 0, len(l.thresholds)
	for lo < hi {
		mid := (lo + hi) / 2
		if l.thresholds[mid] <= xp {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	return lo + 1
}

// Progress is a player's level and xp after a change.
type Progress struct {
	Level     int   `json:"player_level"`
	XP        int64 `json:"xp"`
	LeveledUp bool  `json:"leveled_up"`
}

// errUnknownPlayer is returned when the player does not exist or was erased.
var errUnknownPlayer = errors.New("unknown player")

// addXP adds xp in tx and recomputes the level. The level never goes down,
// so raising the thresholds later does not demote anyone.
func (s *Service) addXP(ctx context.Context, tx pgx.Tx, playerID string, xp int64) (Progress, error) {
	var p Progress
	var before int
	err := tx.QueryRow(ctx, `
		WITH old AS (SELECT player_level FROM players WHERE id = $1 AND deleted_at IS NULL)
		UPDATE players SET xp = players.xp + $2,
			player_level = GREATEST(players.player_level, 1 + (SELECT count(*) FROM unnest($3::BIGINT[]) AS t (x) WHERE t.x <= players.xp + $2))
		WHERE id = $1 AND deleted_at IS NULL
		RETURNING xp, player_level, (SELECT player_level FROM old)`, playerID, xp, s.levels.thresholds).Scan(&p.XP, &p.Level, &before)
	if errors.Is(err, pgx.ErrNoRows) {
		return p, errUnknownPlayer
	}
	if err != nil {
		return p, fmt.Errorf("add xp: %w", err)
	}
	p.LeveledUp = p.Level > before
	return p, nil
}

// LevelsResponse is the body of GET /progression/levels.
type LevelsResponse struct {
	// Thresholds[i] is the total xp needed for level i+2.
	Thresholds []int64 `json:"thresholds"`
	MaxLevel   int     `json:"max_level"`
}

func (s *Service) getLevels(w http.ResponseWriter, r *http.Request) error {
	httpx.WriteJSON(w, http.StatusOK, LevelsResponse{Thresholds: s.levels.thresholds, MaxLevel: len(s.levels.thresholds) + 1})
	return nil
}
