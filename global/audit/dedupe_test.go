package audit

import (
	"testing"
	"time"
)

func TestDedupe(t *testing.T) {
	t0 := time.Unix(1_700_000_000, 0)
	d := NewDedupe(time.Minute, 2)
	steps := []struct {
		key  string
		at   time.Duration
		want bool
	}{
		{"a", 0, true},
		{"a", time.Second, false},
		{"b", time.Second, true},
		{"c", 2 * time.Second, true},  // table full: shares the overflow key
		{"d", 3 * time.Second, false}, // overflow already written this window
		{"a", time.Minute, true},      // a's window is over
		{"e", 2 * time.Minute, true},  // expired keys are evicted to make room
	}
	for i, s := range steps {
		if got := d.First(s.key, t0.Add(s.at)); got != s.want {
			t.Fatalf("step %d (%s at %v): %v, want %v", i, s.key, s.at, got, s.want)
		}
	}
	if len(d.seen) > 2+1 {
		t.Fatalf("%d keys remembered, bound is 2 plus the overflow key", len(d.seen))
	}
}
