package matches

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/atollgg/atoll/internal/authn"
	"github.com/atollgg/atoll/internal/httpx"
	"github.com/atollgg/atoll/internal/keyset"
	"github.com/jackc/pgx/v5"
)

// Page sizes of GET /player/me/matches.
const (
	DefaultPageSize = 20
	// MaxPageSize keeps one page's query and response small.
	MaxPageSize = 100
	// historyTimeout bounds one page's query, so a slow database answers
	// with an error instead of holding the request.
	historyTimeout = 5 * time.Second
)

// RatingChange is a player's rating in the match's mode before and after it.
type RatingChange struct {
	Before float64 `json:"before"`
	After  float64 `json:"after"`
	Change float64 `json:"change"`
	// RD is the rating deviation after the match: lower is surer.
	RD float64 `json:"rd"`
}

// Match is one match in a player's history, from that player's side.
type Match struct {
	MatchID   string    `json:"match_id"`
	Mode      string    `json:"mode"`
	CellID    string    `json:"cell_id"`
	Region    string    `json:"region,omitempty"`
	StartedAt time.Time `json:"started_at"`
	EndedAt   time.Time `json:"ended_at"`
	// Players and Teams count everyone in the match; a free-for-all has a
	// team per player.
	Players int `json:"players"`
	Teams   int `json:"teams"`
	// Team, Placement (their side's, 1 = first) and Outcome (win, loss,
	// draw or none) are the player's result; the statistics are the game
	// server's.
	Team        int     `json:"team"`
	Placement   int     `json:"placement"`
	Outcome     string  `json:"outcome"`
	Score       int     `json:"score"`
	Kills       int     `json:"kills"`
	Deaths      int     `json:"deaths"`
	TimePlayedS float64 `json:"time_played_s"`
	// XP and Rewards are what the match granted; LevelAfter is the level
	// after the xp, absent when no xp moved.
	XP         int64            `json:"xp"`
	LevelAfter *int             `json:"level_after,omitempty"`
	Rewards    map[string]int64 `json:"rewards"`
	// Rating is absent when the match was not rated (a single side).
	Rating *RatingChange `json:"rating,omitempty"`
}

// Page is the body of GET /player/me/matches.
type Page struct {
	Matches []Match `json:"matches"`
	// NextCursor fetches the next (older) page; empty on the last page.
	NextCursor string `json:"next_cursor,omitempty"`
}

// position is a place in the (ended_at, match id) order, newest first.
type position struct {
	at time.Time
	id string
}

// encodeCursor makes an opaque, URL-safe cursor.
func encodeCursor(c position) string {
	return keyset.Encode(c.at, c.id)
}

// DecodeCursor parses a cursor from a query string; it is exported for fuzzing.
func DecodeCursor(s string) (time.Time, string, error) {
	c, err := decodeCursor(s)
	return c.at, c.id, err
}

func decodeCursor(s string) (position, error) {
	at, id, err := keyset.Decode(s)
	return position{at: at, id: id}, err
}

// History lists a player's matches, newest first: limit matches after
// cursor (a NextCursor; "" for the first page).
func (s *Service) History(ctx context.Context, playerID string, limit int, cursor string) (Page, error) {
	page := Page{Matches: []Match{}}
	args := []any{playerID, limit + 1}
	where := ""
	if cursor != "" {
		after, err := decodeCursor(cursor)
		if err != nil {
			return page, err
		}
		where = ` AND (p.ended_at, p.match_id) < ($3, $4)`
		args = append(args, after.at, after.id)
	}
	ctx, cancel := context.WithTimeout(ctx, historyTimeout)
	defer cancel()
	rows, err := s.cfg.DB.Pool.Query(ctx, `
		SELECT p.match_id::TEXT, m.mode, m.cell_id, m.region, m.started_at, p.ended_at, m.players, m.teams,
			p.team, p.placement, p.outcome, p.score, p.kills, p.deaths, p.time_played_s, p.xp, p.level_after, p.rewards,
			p.rating_before, p.rating_after, p.rd_after
		FROM match_participants AS p JOIN matches AS m ON m.id = p.match_id
		WHERE p.player_id = $1`+where+`
		ORDER BY p.ended_at DESC, p.match_id DESC LIMIT $2`, args...)
	if err != nil {
		return page, fmt.Errorf("list matches: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		m, err := scanMatch(rows)
		if err != nil {
			return page, fmt.Errorf("list matches: %w", err)
		}
		page.Matches = append(page.Matches, m)
	}
	if err := rows.Err(); err != nil {
		return page, fmt.Errorf("list matches: %w", err)
	}
	if len(page.Matches) > limit {
		page.Matches = page.Matches[:limit]
		last := page.Matches[limit-1]
		page.NextCursor = encodeCursor(position{at: last.EndedAt, id: last.MatchID})
	}
	return page, nil
}

func scanMatch(rows pgx.Rows) (Match, error) {
	var m Match
	var before, after, rd *float64
	err := rows.Scan(&m.MatchID, &m.Mode, &m.CellID, &m.Region, &m.StartedAt, &m.EndedAt, &m.Players, &m.Teams,
		&m.Team, &m.Placement, &m.Outcome, &m.Score, &m.Kills, &m.Deaths, &m.TimePlayedS, &m.XP, &m.LevelAfter, &m.Rewards,
		&before, &after, &rd)
	if err != nil {
		return m, err
	}
	if m.Rewards == nil {
		m.Rewards = map[string]int64{}
	}
	if before != nil && after != nil && rd != nil {
		m.Rating = &RatingChange{Before: *before, After: *after, Change: *after - *before, RD: *rd}
	}
	return m, nil
}

// pageParams reads ?limit= and ?cursor=; other parameters are refused so a
// typo is not silently ignored.
func pageParams(r *http.Request) (int, string, error) {
	q := r.URL.Query()
	for k := range q {
		if k != "limit" && k != "cursor" {
			return 0, "", httpx.BadRequest("unknown query parameter %q (want limit and cursor)", k)
		}
	}
	if len(q["limit"]) > 1 || len(q["cursor"]) > 1 {
		return 0, "", httpx.BadRequest("limit and cursor may each be given once")
	}
	limit := DefaultPageSize
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > MaxPageSize {
			return 0, "", httpx.BadRequest("limit must be between 1 and %d", MaxPageSize)
		}
		limit = n
	}
	return limit, q.Get("cursor"), nil
}

func (s *Service) listMatches(w http.ResponseWriter, r *http.Request) error {
	limit, cur, err := pageParams(r)
	if err != nil {
		return err
	}
	page, err := s.History(r.Context(), authn.PlayerID(r.Context()), limit, cur)
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	httpx.WriteJSON(w, http.StatusOK, page)
	return nil
}
