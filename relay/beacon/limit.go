package beacon

import (
	"net/netip"
	"time"
)

// Rate-limit defaults.
const (
	// DefaultPerSourceRate is how many probes one source address may send
	// per LimitWindow. A client probes each region a handful of times every
	// few minutes; 50 per second leaves room for players behind one NAT
	// while capping what one address can make the beacon send.
	DefaultPerSourceRate = 50
	// DefaultMaxSources bounds the sources one worker tracks per window
	// (about 40 bytes each, so ~2.5 MiB): a spoofed flood cannot grow the
	// table, and sources beyond it in a window are refused, not tracked.
	DefaultMaxSources = 65536
	// LimitWindow is the window of the fixed-window counters: short enough
	// that a real client refused in a burst is answered a second later.
	LimitWindow = time.Second
)

// limiter is a fixed-window counter per source address with a bounded
// table. Each worker owns one, so it needs no lock.
type limiter struct {
	rate, max int
	window    time.Time
	counts    map[netip.Addr]int
}

func newLimiter(rate, max int) *limiter {
	return &limiter{rate: rate, max: max, counts: make(map[netip.Addr]int, 1024)}
}

// allow reports whether src may be answered at now.
func (l *limiter) allow(src netip.Addr, now time.Time) bool {
	if now.Sub(l.window) >= LimitWindow || now.Before(l.window) {
		l.window = now
		clear(l.counts)
	}
	n, ok := l.counts[src]
	if !ok && len(l.counts) >= l.max {
		return false
	}
	if n >= l.rate {
		return false
	}
	l.counts[src] = n + 1
	return true
}
