package matchmaker

import (
	"math/rand/v2"
	"runtime"
	"testing"
)

// benchTickets is the number of queued tickets the Pass target is set for.
const benchTickets = 100_000

// BenchmarkMatchmakerPass100k measures one full Pass over 100,000 fresh duel
// tickets; the target is under one second on one core
// (GOMAXPROCS=1 go test -bench MatchmakerPass -benchtime=5x).
func BenchmarkMatchmakerPass100k(b *testing.B) {
	benchmarkPass(b, testMode(b, "duel"))
}

// BenchmarkMatchmakerPass100k5v5 is the same over 5v5 tickets, a fifth of
// them parties, so packing and exact team balancing are on the path.
func BenchmarkMatchmakerPass100k5v5(b *testing.B) {
	benchmarkPass(b, testMode(b, "5v5"))
}

func benchmarkPass(b *testing.B, m Mode) {
	tickets := randomTickets(rand.New(rand.NewPCG(1, 2)), m, benchTickets, epoch, "t")
	b.ReportAllocs()
	b.ResetTimer()
	var matches, players int
	for range b.N {
		b.StopTimer()
		p := newTestPool(b, m)
		mustAdd(b, p, tickets...)
		runtime.GC() // the setup's garbage is not the Pass's to collect
		b.StartTimer()
		res := p.Pass(epoch)
		b.StopTimer()
		matches += len(res.Matches)
		for _, mt := range res.Matches {
			for _, t := range mt.Teams {
				players += len(t.Players)
			}
		}
	}
	b.ReportMetric(float64(matches)/float64(b.N), "matches/op")
	b.ReportMetric(float64(players)/float64(b.N), "matched-players/op")
}
