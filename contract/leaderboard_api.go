package contract

import (
	"encoding/base64"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// The leaderboard read API, served by cells (regional boards) and the core
// (global boards) at the same paths:
//
//	GET /leaderboards/{name}?limit=&cursor=&season=   top N, cursor pages
//	GET /leaderboards/{name}?around=me&limit=&season= the caller and neighbours
//	GET /leaderboards/{name}/players/{id}?season=     one player's entry

// Page sizes of the read API.
const (
	// DefaultLeaderboardLimit is a page's size when limit is absent.
	DefaultLeaderboardLimit = 20
	// MaxLeaderboardLimit bounds a page: 100 rows is a full screen on any
	// client and keeps one request's work and body small.
	MaxLeaderboardLimit = 100
	// MaxLeaderboardCursor bounds a cursor's length before decoding: a
	// real one is under 100 bytes.
	MaxLeaderboardCursor = 256
)

// AroundMe is the value of ?around= that centres a page on the caller.
const AroundMe = "me"

// LeaderboardEntry is one ranked player. Rank is 1-based and unique: ties
// are broken by who reached the score first, then by player id.
type LeaderboardEntry struct {
	PlayerID string    `json:"player_id"`
	Score    int64     `json:"score"`
	Rank     int       `json:"rank"`
	Updated  time.Time `json:"updated"`
}

// LeaderboardPage is the body of GET /leaderboards/{name}.
type LeaderboardPage struct {
	Leaderboard string `json:"leaderboard"`
	Season      string `json:"season"`
	Scope       string `json:"scope"`
	// Total is how many players the season has.
	Total   int                `json:"total"`
	Entries []LeaderboardEntry `json:"entries"`
	// NextCursor fetches the page after this one; empty on the last page.
	NextCursor string `json:"next_cursor,omitempty"`
}

// LeaderboardPlayer is the body of GET /leaderboards/{name}/players/{id}.
type LeaderboardPlayer struct {
	Leaderboard string           `json:"leaderboard"`
	Season      string           `json:"season"`
	Scope       string           `json:"scope"`
	Total       int              `json:"total"`
	Entry       LeaderboardEntry `json:"entry"`
}

// LeaderboardQuery is the parsed query string of GET /leaderboards/{name}.
type LeaderboardQuery struct {
	// Limit is the page size, 1..MaxLeaderboardLimit.
	Limit int
	// Cursor is where the page resumes; zero (Set false) means the top.
	Cursor LeaderboardCursor
	// Around is true for around=me.
	Around bool
	// Season is the season asked for; empty means the current one.
	Season string
}

// LeaderboardCursor is the sort key of the last entry of a page: the next
// page starts strictly after it, so pages never repeat or skip a player who
// stayed put while others' scores changed.
type LeaderboardCursor struct {
	Set       bool
	Score     int64
	UpdatedUS int64 // microseconds since the Unix epoch
	PlayerID  string
}

// Encode renders c as the opaque next_cursor.
func (c LeaderboardCursor) Encode() string {
	return base64.RawURLEncoding.EncodeToString([]byte(fmt.Sprintf("%d.%d.%s", c.Score, c.UpdatedUS, c.PlayerID)))
}

// DecodeLeaderboardCursor parses a next_cursor from the network.
func DecodeLeaderboardCursor(s string) (LeaderboardCursor, error) {
	if len(s) > MaxLeaderboardCursor {
		return LeaderboardCursor{}, fmt.Errorf("cursor longer than %d bytes", MaxLeaderboardCursor)
	}
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return LeaderboardCursor{}, fmt.Errorf("cursor is not base64url")
	}
	parts := strings.SplitN(string(raw), ".", 3)
	if len(parts) != 3 {
		return LeaderboardCursor{}, fmt.Errorf("malformed cursor")
	}
	score, err1 := strconv.ParseInt(parts[0], 10, 64)
	upd, err2 := strconv.ParseInt(parts[1], 10, 64)
	if err1 != nil || err2 != nil || parts[2] == "" {
		return LeaderboardCursor{}, fmt.Errorf("malformed cursor")
	}
	return LeaderboardCursor{Set: true, Score: score, UpdatedUS: upd, PlayerID: parts[2]}, nil
}

// ParseLeaderboardQuery reads limit, cursor, around and season; unknown
// parameters and repeated ones are errors. around and cursor exclude each
// other.
func ParseLeaderboardQuery(q url.Values) (LeaderboardQuery, error) {
	out := LeaderboardQuery{Limit: DefaultLeaderboardLimit}
	for k, v := range q {
		if k != "limit" && k != "cursor" && k != "around" && k != "season" {
			return out, fmt.Errorf("unknown query parameter %q (want limit, cursor, around or season)", k)
		}
		if len(v) != 1 {
			return out, fmt.Errorf("query parameter %q given %d times", k, len(v))
		}
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > MaxLeaderboardLimit {
			return out, fmt.Errorf("limit must be an integer from 1 to %d", MaxLeaderboardLimit)
		}
		out.Limit = n
	}
	if v, ok := q["around"]; ok {
		if v[0] != AroundMe {
			return out, fmt.Errorf("around must be %q", AroundMe)
		}
		out.Around = true
	}
	if v, ok := q["cursor"]; ok {
		if out.Around {
			return out, fmt.Errorf("cursor and around=me exclude each other")
		}
		c, err := DecodeLeaderboardCursor(v[0])
		if err != nil {
			return out, err
		}
		out.Cursor = c
	}
	if v, ok := q["season"]; ok {
		if v[0] == "" {
			return out, fmt.Errorf("season is empty")
		}
		out.Season = v[0]
	}
	return out, nil
}

// LeaderboardScoresPath is the core's server-side score grant for global
// boards, for cells (and other servers) with their service credential:
// POST /internal/v1/leaderboards/{name}/scores. Clients never submit scores.
const LeaderboardScoresPath = "/internal/v1/leaderboards/{name}/scores"

// LeaderboardScoreGrant is the body of a score grant: value is combined
// with the player's score by the board's operator, exactly once per
// idempotency key, player and board.
type LeaderboardScoreGrant struct {
	PlayerID       string `json:"player_id"`
	Value          int64  `json:"value"`
	IdempotencyKey string `json:"idempotency_key"`
	// At is when the score was reached (it picks the season and orders
	// ties); zero means now.
	At time.Time `json:"at,omitzero"`
}
