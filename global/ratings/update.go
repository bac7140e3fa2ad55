package ratings

import (
	"context"
	"fmt"
	"math"

	"github.com/jackc/pgx/v5"
)

// Side is one team of a finished match. A lower Rank placed better; equal
// Ranks drew. A free-for-all is one Side per player.
type Side struct {
	Rank    int
	Players []string
}

// Change is one player's rating in a mode before and after a match.
type Change struct {
	Before Glicko
	After  Glicko
	// Games counts the player's rated matches in the mode, this one included.
	Games int
}

// RateMatch updates, in tx, the mode's Glicko-2 ratings of the players in
// rate after a match between sides, as one rating period per match.
//
// Teams: each player is rated against every opposing side as if it were one
// opponent with the side's mean rating and root-mean-square RD, scoring 1,
// ½ or 0 as their side placed above, level with or below it. A
// free-for-all therefore rates each player against every other by
// placement. Every player's update uses the ratings as they were before the
// match. Players of sides who are not in rate (no account, already applied)
// count as opponents at their stored or unrated values and are not written.
// A match with fewer than two sides changes nothing. With Config.IdlePeriod
// set, every stored RD first grows with the time since its last update
// (Inflate), so a player back from a long break moves faster.
func (s *Service) RateMatch(ctx context.Context, tx pgx.Tx, mode string, sides []Side, rate []string) (map[string]Change, error) {
	out := map[string]Change{}
	if len(sides) < 2 || len(rate) == 0 {
		return out, nil
	}
	var all []string
	for _, sd := range sides {
		all = append(all, sd.Players...)
	}
	// FOR UPDATE: the rows are rewritten below; taking the locks now makes a
	// concurrent match of the same players wait instead of aborting late.
	rows, err := tx.Query(ctx, `SELECT player_id::TEXT, rating, rd, volatility, games,
			GREATEST(EXTRACT(EPOCH FROM now() - updated_at), 0)::FLOAT8 FROM ratings
		WHERE mode = $1 AND player_id = ANY($2::UUID[]) ORDER BY player_id FOR UPDATE`, mode, all)
	if err != nil {
		return nil, fmt.Errorf("read ratings: %w", err)
	}
	current := map[string]Glicko{}
	games := map[string]int{}
	for rows.Next() {
		var id string
		var g Glicko
		var n int
		var idle float64
		if err := rows.Scan(&id, &g.Rating, &g.RD, &g.Volatility, &n, &idle); err != nil {
			rows.Close()
			return nil, fmt.Errorf("read ratings: %w", err)
		}
		if s.cfg.IdlePeriod > 0 {
			g = Inflate(g, idle/s.cfg.IdlePeriod.Seconds())
		}
		current[id], games[id] = g, n
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read ratings: %w", err)
	}
	state := func(id string) Glicko {
		if g, ok := current[id]; ok {
			return g
		}
		return Unrated()
	}
	composite := make([]Glicko, len(sides))
	sideOf := map[string]int{}
	for i, sd := range sides {
		var r, rd2, vol float64
		for _, id := range sd.Players {
			g := state(id)
			r, rd2, vol = r+g.Rating, rd2+g.RD*g.RD, vol+g.Volatility
			sideOf[id] = i
		}
		n := float64(max(len(sd.Players), 1))
		composite[i] = Glicko{Rating: r / n, RD: math.Sqrt(rd2 / n), Volatility: vol / n}
		if len(sd.Players) == 0 {
			composite[i] = Unrated()
		}
	}
	ids := make([]string, 0, len(rate))
	var rs, rds, vols []float64
	for _, id := range rate {
		i, ok := sideOf[id]
		if !ok {
			return nil, fmt.Errorf("rate match: player %s is on no side", id)
		}
		results := make([]Result, 0, len(sides)-1)
		for j, opp := range sides {
			if j == i {
				continue
			}
			score := 0.5
			switch {
			case sides[i].Rank < opp.Rank:
				score = 1
			case sides[i].Rank > opp.Rank:
				score = 0
			}
			results = append(results, Result{Opponent: composite[j], Score: score})
		}
		before := state(id)
		after, err := Update(before, results, s.cfg.Tau)
		if err != nil {
			return nil, fmt.Errorf("rate player %s: %w", id, err)
		}
		out[id] = Change{Before: before, After: after, Games: games[id] + 1}
		ids = append(ids, id)
		rs, rds, vols = append(rs, after.Rating), append(rds, after.RD), append(vols, after.Volatility)
	}
	if _, err := tx.Exec(ctx, `
		INSERT INTO ratings (player_id, mode, rating, rd, volatility, games, updated_at)
		SELECT u.id, $1, u.r, u.rd, u.vol, 1, now() FROM unnest($2::UUID[], $3::FLOAT8[], $4::FLOAT8[], $5::FLOAT8[]) AS u (id, r, rd, vol)
		ON CONFLICT (player_id, mode) DO UPDATE SET rating = excluded.rating, rd = excluded.rd, volatility = excluded.volatility,
			games = ratings.games + 1, updated_at = now()`, mode, ids, rs, rds, vols); err != nil {
		return nil, fmt.Errorf("write ratings: %w", err)
	}
	return out, nil
}
