package cell_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/atollgg/atoll/cell/matchmaking"
	"github.com/atollgg/atoll/contract"
	"github.com/atollgg/atoll/global/globaltest"
	"github.com/coder/websocket"
)

// TestRegionalLeaderboardFromPlay is the regional board's whole path in a
// real cell: a played duel's server-reported results reach the board through
// the cell's stream, the board answers around=me with the player's token
// from a real global core, and it survives the cell's restart.
func TestRegionalLeaderboardFromPlay(t *testing.T) {
	core := globaltest.Start(t)
	a, b := core.Guest(t), core.Guest(t)
	cfg := cellConfig(t, core, issuerOf(t, a.Access), gameServer(t))
	cfg.Leaderboards = []contract.LeaderboardDefinition{{Name: "duel_taps", Operator: contract.OperatorIncrement,
		Scope: contract.ScopeRegional, Field: contract.FieldScore, Modes: []string{"duel"}}}
	c := startCell(t, cfg)
	cl := newClient(c.URL())
	wa, wb := watch(t, c.URL(), a.Access), watch(t, c.URL(), b.Access)
	join(t, cl, a.Access, "duel", nil)
	join(t, cl, b.Access, "duel", nil)
	sa, sb := wa.until("matched", matched), wb.until("matched", matched)
	ga, gb := dialGame(t, sa.Server, sa.ConnectToken), dialGame(t, sb.Server, sb.ConnectToken)
	ga.expect(t, "welcome")
	gb.expect(t, "welcome")
	ga.expect(t, "start")
	gb.expect(t, "start")
	for range 3 {
		if err := ga.conn.Write(context.Background(), websocket.MessageText, []byte(`{"type":"tap"}`)); err != nil {
			t.Fatal(err)
		}
	}
	ga.expect(t, "end")
	wa.until("session over", func(s matchmaking.Status) bool { return s.SessionOver })

	check := func(base string) {
		t.Helper()
		var page contract.LeaderboardPage
		eventually(t, "the match on the board", func() bool {
			r := newClient(base).do(t, "GET", "/leaderboards/duel_taps?around=me", a.Access, nil)
			return r.status == http.StatusOK && json.Unmarshal(r.body, &page) == nil && page.Total == 2
		})
		if page.Entries[0].PlayerID != a.ID || page.Entries[0].Score != 3 || page.Entries[0].Rank != 1 || page.Entries[1].PlayerID != b.ID {
			t.Fatalf("board %+v", page)
		}
	}
	check(c.URL())

	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	if err := c.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	killGameServers(c)
	cfg.HTTPAddr = "127.0.0.1:0"
	check(startCell(t, cfg).URL())
}
