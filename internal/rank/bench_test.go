package rank

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// benchEntries is the board size the target is stated for.
const benchEntries = 1_000_000

func benchIndex(b *testing.B) (*Index, []string) {
	b.Helper()
	rng := rand.New(rand.NewPCG(7, 7))
	x := New(Desc)
	ids := make([]string, benchEntries)
	for i := range ids {
		ids[i] = fmt.Sprintf("%08x-0000-4000-8000-%012x", i, i)
		// Scores from a narrow range: many ties, as on real boards.
		x.Upsert(Entry{ID: ids[i], Score: rng.Int64N(100_000), Updated: int64(i)})
	}
	return x, ids
}

// timed runs op b.N times, recording each latency in an HDR histogram, and
// reports p50/p99/max in nanoseconds.
func timed(b *testing.B, op func(i int)) {
	h := hdrhistogram.New(1, int64(time.Second), 3)
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		t0 := time.Now()
		op(i)
		_ = h.RecordValue(time.Since(t0).Nanoseconds())
	}
	b.ReportMetric(float64(h.ValueAtQuantile(50)), "p50-ns")
	b.ReportMetric(float64(h.ValueAtQuantile(99)), "p99-ns")
	b.ReportMetric(float64(h.Max()), "max-ns")
}

// BenchmarkRankLookup1M is a player's rank lookup on a 1,000,000-entry board
// (target p99 < 50µs).
func BenchmarkRankLookup1M(b *testing.B) {
	x, ids := benchIndex(b)
	rng := rand.New(rand.NewPCG(1, 2))
	timed(b, func(int) {
		if _, ok := x.Rank(ids[rng.IntN(len(ids))]); !ok {
			b.Fatal("missing id")
		}
	})
}

// BenchmarkAroundMe1M is a rank lookup plus its neighbours (around=me).
func BenchmarkAroundMe1M(b *testing.B) {
	x, ids := benchIndex(b)
	rng := rand.New(rand.NewPCG(1, 2))
	timed(b, func(int) {
		r, _ := x.Rank(ids[rng.IntN(len(ids))])
		if len(x.Range(r-5, 11)) == 0 {
			b.Fatal("empty page")
		}
	})
}

// BenchmarkWrite1M is score writes (increment) into a 1,000,000-entry board;
// ops/s is the in-memory write rate.
func BenchmarkWrite1M(b *testing.B) {
	x, ids := benchIndex(b)
	rng := rand.New(rand.NewPCG(3, 4))
	timed(b, func(i int) {
		x.Apply(Increment, ids[rng.IntN(len(ids))], rng.Int64N(50), int64(benchEntries+i))
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "writes/s")
}
