package matches_test

import (
	"testing"
	"time"

	"github.com/atollgg/atoll/contract"
)

// BenchmarkApply measures applying one match (history, ratings, xp and
// rewards for every player) in its own transaction: the core's catch-up
// rate after an outage is about this many matches per second per consumer.
// Full run: go test -run '^$' -bench BenchmarkApply -benchtime 200x ./global/matches/
func BenchmarkApply(b *testing.B) {
	for _, size := range []struct {
		name    string
		players int
		mode    string
	}{{"duel", 2, "duel"}, {"ffa16", 16, "ffa4"}} {
		b.Run(size.name, func(b *testing.B) {
			c := startCore(b)
			var ids []string
			for range size.players {
				ids = append(ids, c.Guest(b).ID)
			}
			end := time.Now().UTC()
			b.ResetTimer()
			for i := range b.N {
				var res []contract.PlayerResult
				for j, id := range ids {
					res = append(res, result(id, j, 1+(i+j)%len(ids), j))
				}
				mustApply(b, c, match(size.mode, end.Add(time.Duration(i)*time.Millisecond), res...))
			}
			b.ReportMetric(float64(b.N*size.players)/b.Elapsed().Seconds(), "players/s")
		})
	}
}
