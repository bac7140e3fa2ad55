package cell_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
	"github.com/atollgg/atoll/cell/fleet"
	"github.com/atollgg/atoll/global/globaltest"
)

// BenchmarkJoinToMatched measures, in-process over real HTTP and
// WebSockets, the time from a player's POST /matchmaking/join to the
// matched status pushed on their WebSocket, when a compatible player is
// already waiting and a warm game server is Ready: ratings lookup, ticket
// persistence, the pass, allocation on the real fleet (real game-server
// processes), session and ticket writes, the connect token and the push.
// Between timed joins both players play the (short) game so the server is
// recycled, untimed. Reports p50/p99/max in ms.
func BenchmarkJoinToMatched(b *testing.B) {
	core := globaltest.Start(b)
	players := make([]globaltest.Player, 2*b.N)
	for i := range players {
		players[i] = core.Guest(b)
	}
	cfg := cellConfig(b, core, issuerOf(b, players[0].Access), buildBinary(b, "gameserver/cmd/atoll-gameserver"))
	cfg.GameServerEnv = []string{"ATOLL_GAME=timed", "ATOLL_GAME_DURATION=100ms", "ATOLL_GAME_JOIN_TIMEOUT=30s"}
	cfg.WarmServers, cfg.MaxServers = 4, 16
	c := startCell(b, cfg)
	cl := newClient(c.URL())
	hist := hdrhistogram.New(1, int64(10*time.Second/time.Microsecond), 3)

	b.ResetTimer()
	for i := range b.N {
		b.StopTimer()
		first, second := players[2*i], players[2*i+1]
		wf, ws := watch(b, c.URL(), first.Access), watch(b, c.URL(), second.Access)
		eventually(b, "a Ready game server", func() bool {
			for _, s := range c.Fleet.Servers() {
				if s.State == fleet.StateReady {
					return true
				}
			}
			return false
		})
		join(b, cl, first.Access, "duel", nil)
		b.StartTimer()
		start := time.Now()
		join(b, cl, second.Access, "duel", nil)
		st := ws.until("matched", matched)
		elapsed := time.Since(start)
		b.StopTimer()
		if err := hist.RecordValue(elapsed.Microseconds()); err != nil {
			b.Fatal(err)
		}
		// Play the game out so its server is recycled.
		sf := wf.until("matched", matched)
		g1, g2 := dialGame(b, st.Server, st.ConnectToken), dialGame(b, sf.Server, sf.ConnectToken)
		g1.expect(b, "end")
		g2.expect(b, "end")
		b.StartTimer()
	}
	b.StopTimer()
	ms := func(us int64) float64 { return float64(us) / 1000 }
	b.ReportMetric(ms(hist.ValueAtQuantile(50)), "p50-ms")
	b.ReportMetric(ms(hist.ValueAtQuantile(99)), "p99-ms")
	b.ReportMetric(ms(hist.Max()), "max-ms")
	b.Log(fmt.Sprintf("join→matched over %d joins: p50 %.2f ms, p99 %.2f ms, max %.2f ms",
		hist.TotalCount(), ms(hist.ValueAtQuantile(50)), ms(hist.ValueAtQuantile(99)), ms(hist.Max())))
}
