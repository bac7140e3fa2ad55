package matches

import (
	"fmt"
	"testing"

	"github.com/atollgg/atoll/contract"
)

func TestRank(t *testing.T) {
	p := func(id string, team, place, score int) contract.PlayerResult {
		return contract.PlayerResult{PlayerID: id, Team: team, Placement: place, Score: score}
	}
	for _, tc := range []struct {
		name    string
		players []contract.PlayerResult
		// want is "team:placement:outcome" per team, in team order.
		want []string
	}{
		{"duel by placement", []contract.PlayerResult{p("a", 0, 2, 99), p("b", 1, 1, 0)}, []string{"0:2:loss", "1:1:win"}},
		{"duel tie", []contract.PlayerResult{p("a", 0, 1, 5), p("b", 1, 1, 5)}, []string{"0:1:draw", "1:1:draw"}},
		{"ffa shares placements", []contract.PlayerResult{p("a", 0, 1, 0), p("b", 1, 2, 0), p("c", 2, 2, 0), p("d", 3, 4, 0)},
			[]string{"0:1:win", "1:2:loss", "2:2:loss", "3:4:loss"}},
		{"team by best member's placement", []contract.PlayerResult{p("a", 0, 4, 0), p("b", 0, 1, 0), p("c", 1, 2, 0), p("d", 1, 3, 0)},
			[]string{"0:1:win", "1:2:loss"}},
		{"team by score without placements", []contract.PlayerResult{p("a", 0, 0, 10), p("b", 0, 0, 10), p("c", 1, 0, 30), p("d", 1, 0, -5)},
			[]string{"0:2:loss", "1:1:win"}},
		{"a side without placement falls back to score", []contract.PlayerResult{p("a", 0, 2, 50), p("b", 1, 0, 10)},
			[]string{"0:1:win", "1:2:loss"}},
		{"single side", []contract.PlayerResult{p("a", 3, 1, 0), p("b", 3, 2, 0)}, []string{"3:1:none"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := rank(tc.players)
			var got []string
			seen := map[int]bool{}
			for _, pl := range tc.players {
				if !seen[pl.Team] {
					seen[pl.Team] = true
					got = append(got, fmt.Sprintf("%d:%d:%s", pl.Team, st.placement[pl.Team], st.outcome[pl.Team]))
				}
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
			n := 0
			for _, sd := range st.sides {
				n += len(sd.Players)
				if sd.Rank != st.placement[teamOf(tc.players, sd.Players[0])] {
					t.Fatalf("side %+v rank disagrees with placements %v", sd, st.placement)
				}
			}
			if n != len(tc.players) || len(st.sides) != len(seen) {
				t.Fatalf("sides %+v do not hold every player once", st.sides)
			}
		})
	}
}

func teamOf(players []contract.PlayerResult, id string) int {
	for _, p := range players {
		if p.PlayerID == id {
			return p.Team
		}
	}
	return -1
}
