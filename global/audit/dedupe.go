package audit

import (
	"sync"
	"time"
)

// Rejection audit limits: a flood of rejected requests must cost the
// database at most a handful of rows, whatever its rate.
const (
	// DefaultDedupeWindow is how long one key's rejection is audited once:
	// a minute is fine enough to date an attack and coarse enough that a
	// flood writes a row a minute.
	DefaultDedupeWindow = time.Minute
	// DefaultDedupeKeys bounds the keys remembered: at ~100 bytes each, 64Ki
	// keys are a few MiB. When full, new keys share one overflow key, so
	// memory stays bounded and the flood is still audited once a window.
	DefaultDedupeKeys = 64 << 10
)

// overflowKey is shared by keys arriving while the table is full.
const overflowKey = "\x00overflow"

// Dedupe lets one event per key through per window, so a rejection flood is
// audited once a window instead of once a request. Safe for concurrent use.
type Dedupe struct {
	window time.Duration
	max    int

	mu   sync.Mutex // guards following
	seen map[string]time.Time
}

// NewDedupe returns a Dedupe; zero window or max mean DefaultDedupeWindow
// and DefaultDedupeKeys.
func NewDedupe(window time.Duration, max int) *Dedupe {
	if window <= 0 {
		window = DefaultDedupeWindow
	}
	if max <= 0 {
		max = DefaultDedupeKeys
	}
	return &Dedupe{window: window, max: max, seen: map[string]time.Time{}}
}

// First reports whether key's event at now is the first of its window: the
// one to write.
func (d *Dedupe) First(key string, now time.Time) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if at, ok := d.seen[key]; ok {
		if now.Sub(at) < d.window {
			return false
		}
		d.seen[key] = now
		return true
	}
	if len(d.seen) >= d.max {
		for k, at := range d.seen {
			if now.Sub(at) >= d.window {
				delete(d.seen, k)
			}
		}
		if len(d.seen) >= d.max {
			key = overflowKey
			if at, ok := d.seen[key]; ok && now.Sub(at) < d.window {
				return false
			}
		}
	}
	d.seen[key] = now
	return true
}
