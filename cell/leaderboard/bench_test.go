package leaderboard

import (
	"fmt"
	"testing"
	"time"

	"github.com/atollgg/atoll/contract"
	"github.com/atollgg/atoll/internal/natstest"
	"github.com/atollgg/atoll/internal/obs"
)

// BenchmarkRegionalApply is the cell's write path after decoding: one
// 10-player match applied to every regional board of testDefs (6 boards,
// both orders, every operator) among 1,000,000 players. writes/s counts
// player score writes (players × boards that take the match's mode).
//
//	go test -run '^$' -bench RegionalApply -benchtime 200000x ./cell/leaderboard/
func BenchmarkRegionalApply(b *testing.B) {
	keys := newKeys(b)
	_, js := natstest.Start(b) // New needs JetStream; Apply never touches it
	s, err := New(Config{CellID: testCell, Definitions: testDefs(), JS: js, Verifier: keys.verifier, Log: obs.Discard()})
	if err != nil {
		b.Fatal(err)
	}
	const population = 1_000_000
	ids := make([]string, population)
	for i := range ids {
		ids[i] = fmt.Sprintf("%08x-0000-4000-8000-%012x", i, i)
	}
	writes := 0
	n := 0
	for b.Loop() {
		ev := contract.MatchCompleted{SessionID: "s", GameMode: []string{"duel", "5v5"}[n%2], EndedAt: t0.Add(time.Duration(n) * time.Millisecond)}
		for j := range 10 {
			ev.Players = append(ev.Players, contract.PlayerResult{PlayerID: ids[(n*10+j*7919)%population], Score: j, Kills: j % 4, Placement: j + 1})
		}
		s.Apply(uint64(n+1), ev)
		writes += 10 * map[string]int{"duel": 6, "5v5": 5}[ev.GameMode]
		n++
	}
	b.ReportMetric(float64(writes)/b.Elapsed().Seconds(), "writes/s")
}
