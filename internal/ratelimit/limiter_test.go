package ratelimit

import (
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// epoch is the injected clock's origin: tests never read the real clock.
var epoch = time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)

func newLimiter(t testing.TB, spec string, maxKeys int) *Limiter {
	t.Helper()
	r, err := ParseRate(spec)
	if err != nil {
		t.Fatal(err)
	}
	l, err := New(r, maxKeys)
	if err != nil {
		t.Fatalf("New(%v, %d) = %v", r, maxKeys, err)
	}
	return l
}

func TestNewRejects(t *testing.T) {
	if _, err := New(Rate{Events: 1, Per: time.Second}, 10); err == nil {
		t.Error("New(burst 0) = nil error")
	}
	for _, n := range []int{0, -1, MaxKeys + 1} {
		if _, err := New(Rate{1, time.Second, 1}, n); err == nil {
			t.Errorf("New(maxKeys %d) = nil error", n)
		}
	}
}

func TestOffAllowsEverything(t *testing.T) {
	l, err := New(Off, 0)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 1000 {
		if ok, retry := l.Allow("k", epoch); !ok || retry != 0 {
			t.Fatalf("Off limiter denied event %d", i)
		}
	}
	if l.Len() != 0 {
		t.Fatalf("Off limiter tracks %d keys", l.Len())
	}
}

func TestBurstThenTrip(t *testing.T) {
	l := newLimiter(t, "5/s", 100) // one token per 200ms, burst 5
	for i := range 5 {
		if ok, _ := l.Allow("ip:1", epoch); !ok {
			t.Fatalf("event %d of burst denied", i+1)
		}
	}
	ok, retry := l.Allow("ip:1", epoch)
	if ok || retry != 200*time.Millisecond {
		t.Fatalf("event after burst = %v, %v; want false, 200ms", ok, retry)
	}
	// A denied event consumes nothing: asking again changes nothing.
	if ok, again := l.Allow("ip:1", epoch.Add(50*time.Millisecond)); ok || again != 150*time.Millisecond {
		t.Fatalf("retry at +50ms = %v, %v; want false, 150ms", ok, again)
	}
	// Another key is independent.
	if ok, _ := l.Allow("ip:2", epoch); !ok {
		t.Fatal("other key denied")
	}
	// retryAfter is exact: one nanosecond early is denied, on time allowed.
	if ok, r := l.Allow("ip:1", epoch.Add(retry-1)); ok || r != 1 {
		t.Fatalf("1ns before retryAfter = %v, %v; want false, 1ns", ok, r)
	}
	if ok, _ := l.Allow("ip:1", epoch.Add(retry)); !ok {
		t.Fatal("denied at retryAfter")
	}
	if ok, r := l.Allow("ip:1", epoch.Add(retry)); ok || r != 200*time.Millisecond {
		t.Fatalf("second event at retryAfter = %v, %v; want false, 200ms", ok, r)
	}
}

func TestRefill(t *testing.T) {
	tests := []struct {
		spec    string
		idle    time.Duration
		allowed int // events allowed back to back after draining and idling
	}{
		{"20/min", 0, 0},
		{"20/min", 2999 * time.Millisecond, 0},
		{"20/min", 3 * time.Second, 1},
		{"20/min", 30 * time.Second, 10},
		{"20/min", time.Minute, 20},
		{"20/min", time.Hour, 20}, // never more than the burst
		{"20/min,burst=5", time.Hour, 5},
		{"20/min,burst=50", time.Hour, 50},
		{"1/h", 59 * time.Minute, 0},
		{"1/h", time.Hour, 1},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s after %v", tt.spec, tt.idle), func(t *testing.T) {
			l := newLimiter(t, tt.spec, 10)
			for {
				if ok, _ := l.Allow("acct", epoch); !ok {
					break
				}
			}
			now := epoch.Add(tt.idle)
			got := 0
			for {
				ok, _ := l.Allow("acct", now)
				if !ok {
					break
				}
				got++
			}
			if got != tt.allowed {
				t.Fatalf("allowed %d after idling %v, want %d", got, tt.idle, tt.allowed)
			}
		})
	}
}

func TestSteadyRate(t *testing.T) {
	l := newLimiter(t, "10/s,burst=1", 10)
	now := epoch
	for i := range 1000 {
		if ok, r := l.Allow("k", now); !ok {
			t.Fatalf("event %d at exactly the rate denied, retry %v", i, r)
		}
		if ok, _ := l.Allow("k", now.Add(50*time.Millisecond)); ok {
			t.Fatalf("event %d+½ above the rate allowed", i)
		}
		now = now.Add(100 * time.Millisecond)
	}
}

func TestClockExtremes(t *testing.T) {
	l := newLimiter(t, "1/s", 10)
	// A zero time or far future must not overflow into nonsense.
	for _, now := range []time.Time{{}, time.Unix(0, 0), epoch.AddDate(200, 0, 0)} {
		if ok, _ := l.Allow("k"+now.String(), now); !ok {
			t.Errorf("first event at %v denied", now)
		}
		ok, r := l.Allow("k"+now.String(), now)
		if ok || r != time.Second {
			t.Errorf("second event at %v = %v, %v; want false, 1s", now, ok, r)
		}
	}
}

func TestBoundedKeys(t *testing.T) {
	const maxKeys = 100
	l := newLimiter(t, "3/min", maxKeys)
	for i := range 100 * maxKeys {
		l.Allow("flood:"+strconv.Itoa(i), epoch)
		if n := l.Len(); n > maxKeys {
			t.Fatalf("after %d keys Len() = %d, want ≤ %d", i+1, n, maxKeys)
		}
	}
	if n := l.Len(); n != maxKeys {
		t.Fatalf("Len() = %d, want the table full at %d", n, maxKeys)
	}
}

func TestFloodDoesNotResetThrottledKey(t *testing.T) {
	for _, maxKeys := range []int{minShardKeys, maxShards * minShardKeys, 10000} {
		t.Run(strconv.Itoa(maxKeys), func(t *testing.T) {
			l := newLimiter(t, "3/min", maxKeys)
			for range 3 {
				l.Allow("acct:victim", epoch)
			}
			if ok, _ := l.Allow("acct:victim", epoch); ok {
				t.Fatal("victim not throttled after its burst")
			}
			// A flood of distinct keys, one event each, fills and churns
			// every shard.
			now := epoch
			for i := range 20 * maxKeys {
				now = epoch.Add(time.Duration(i) * 10 * time.Second / time.Duration(20*maxKeys))
				l.Allow("flood:"+strconv.Itoa(i), now)
			}
			if n := l.Len(); n != maxKeys {
				t.Fatalf("Len() = %d, want the table full at %d", n, maxKeys)
			}
			// 10s later the victim has regained nothing of its 60s debt.
			if ok, r := l.Allow("acct:victim", now); ok || r < 9*time.Second {
				t.Fatalf("victim after flood = %v, %v; want still throttled", ok, r)
			}
		})
	}
}

func TestIdleKeysEvictedFirst(t *testing.T) {
	l := newLimiter(t, "1/min", 1) // one shard, one slot
	l.Allow("a", epoch)
	// b arrives after a's bucket refilled: evicting a loses nothing.
	later := epoch.Add(time.Minute)
	if ok, _ := l.Allow("b", later); !ok {
		t.Fatal("b denied")
	}
	if ok, _ := l.Allow("b", later); ok {
		t.Fatal("b's state was not kept")
	}
	if ok, _ := l.Allow("a", later); !ok {
		t.Fatal("a, idle for a full refill, denied")
	}
	if l.Len() != 1 {
		t.Fatalf("Len() = %d, want 1", l.Len())
	}
}

func TestConcurrentAllowIsExact(t *testing.T) {
	const burst, workers, perWorker = 100, 8, 500
	l := newLimiter(t, fmt.Sprintf("%d/h", burst), 1000)
	var allowed atomic.Int64
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range perWorker {
				if ok, _ := l.Allow("shared", epoch); ok {
					allowed.Add(1)
				}
				// Distinct keys too, overflowing the table, to race eviction.
				l.Allow(strconv.Itoa(w*perWorker+i), epoch)
			}
		})
	}
	wg.Wait()
	if got := allowed.Load(); got != burst {
		t.Fatalf("%d concurrent events allowed, want exactly the burst %d", got, burst)
	}
	if n := l.Len(); n > 1000 {
		t.Fatalf("Len() = %d, want ≤ 1000", n)
	}
}

func TestHeapInvariant(t *testing.T) {
	l := newLimiter(t, "10/s,burst=3", 256)
	for i := range 20000 {
		now := epoch.Add(time.Duration(i*7) * time.Millisecond)
		l.Allow(strconv.Itoa(i*31%997), now)
	}
	for si := range l.shards {
		s := &l.shards[si]
		if len(s.heap) != len(s.entries) || len(s.heap) > s.cap {
			t.Fatalf("shard %d: heap %d, map %d, cap %d", si, len(s.heap), len(s.entries), s.cap)
		}
		for i, e := range s.heap {
			if e.idx != i || s.entries[e.key] != e {
				t.Fatalf("shard %d: entry %d out of place", si, i)
			}
			if i > 0 && s.heap[(i-1)/2].tat > e.tat {
				t.Fatalf("shard %d: heap order broken at %d", si, i)
			}
		}
	}
}

func BenchmarkAllow(b *testing.B) {
	keys := make([]string, 100000)
	for i := range keys {
		keys[i] = "203.0.113." + strconv.Itoa(i)
	}
	for _, bc := range []struct {
		name    string
		keys    int
		maxKeys int
	}{
		{"one key", 1, 1000},
		{"10k keys fit", 10000, 100000},
		{"100k keys evicting", 100000, 10000},
	} {
		b.Run(bc.name, func(b *testing.B) {
			l := newLimiter(b, "20/min", bc.maxKeys)
			var next atomic.Uint64
			b.RunParallel(func(pb *testing.PB) {
				i := int(next.Add(7919))
				for pb.Next() {
					l.Allow(keys[i%bc.keys], time.Now())
					i++
				}
			})
		})
	}
}
