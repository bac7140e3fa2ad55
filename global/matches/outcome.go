package matches

import (
	"cmp"
	"slices"

	"github.com/atollgg/atoll/contract"
	"github.com/atollgg/atoll/global/ratings"
)

// Outcomes of a match for one player.
const (
	// OutcomeWin: the player's side placed first alone.
	OutcomeWin = "win"
	// OutcomeDraw: the player's side shared first place.
	OutcomeDraw = "draw"
	// OutcomeLoss: another side placed above the player's.
	OutcomeLoss = "loss"
	// OutcomeNone: the match had a single side (co-op, or everyone else
	// left), so nobody won or lost and ratings stay.
	OutcomeNone = "none"
)

// standings are the sides of a match, ranked.
type standings struct {
	sides     []ratings.Side
	placement map[int]int    // team -> placement of its side (1 = first)
	outcome   map[int]string // team -> outcome
}

// rank groups the results into sides by team and ranks the sides. When every
// side has a member with a placement, a side ranks by its best member's
// placement (the game server's ranking); otherwise by its members' total
// score, higher first. Sides level on that key tie and share the better
// placement (1, 2, 2, 4). A free-for-all is one team per player, so it
// ranks by each player's placement.
func rank(players []contract.PlayerResult) standings {
	type side struct {
		team, best, score int
		ids               []string
	}
	byTeam := map[int]*side{}
	var order []*side
	for _, p := range players {
		sd := byTeam[p.Team]
		if sd == nil {
			sd = &side{team: p.Team}
			byTeam[p.Team] = sd
			order = append(order, sd)
		}
		sd.ids = append(sd.ids, p.PlayerID)
		sd.score += p.Score
		if p.Placement > 0 && (sd.best == 0 || p.Placement < sd.best) {
			sd.best = p.Placement
		}
	}
	byPlacement := true
	for _, sd := range order {
		byPlacement = byPlacement && sd.best > 0
	}
	better := func(a, b *side) int { // negative: a ranks above b
		if byPlacement {
			return cmp.Compare(a.best, b.best)
		}
		return cmp.Compare(b.score, a.score)
	}
	slices.SortStableFunc(order, func(a, b *side) int {
		if c := better(a, b); c != 0 {
			return c
		}
		return cmp.Compare(a.team, b.team)
	})
	st := standings{placement: map[int]int{}, outcome: map[int]string{}}
	for i, sd := range order {
		place := i + 1
		if i > 0 && better(sd, order[i-1]) == 0 {
			place = st.placement[order[i-1].team]
		}
		st.placement[sd.team] = place
		st.sides = append(st.sides, ratings.Side{Rank: place, Players: sd.ids})
	}
	firsts := 0
	for _, p := range st.placement {
		if p == 1 {
			firsts++
		}
	}
	for team, p := range st.placement {
		switch {
		case len(order) < 2:
			st.outcome[team] = OutcomeNone
		case p > 1:
			st.outcome[team] = OutcomeLoss
		case firsts > 1:
			st.outcome[team] = OutcomeDraw
		default:
			st.outcome[team] = OutcomeWin
		}
	}
	return st
}
