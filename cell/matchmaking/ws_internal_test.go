package matchmaking

import (
	"errors"
	"testing"
	"time"
)

// TestHubCountsPendingHandshakes: connections that have not authenticated
// yet count against the connection cap and have a cap of their own.
func TestHubCountsPendingHandshakes(t *testing.T) {
	h := newHub(&Service{}, DefaultMaxWSConnections)
	h.maxConns, h.maxPending = 3, 2
	for i := range 2 {
		if err := h.reservePending(); err != nil {
			t.Fatalf("pending %d: %v", i, err)
		}
	}
	if err := h.reservePending(); !errors.Is(err, errHubFull) {
		t.Fatalf("third pending handshake: %v, want errHubFull", err)
	}
	c := &wsConn{player: "p1", cancel: func() {}}
	if err := h.add(c); err != nil {
		t.Fatal(err)
	}
	// Two pending and one open fill the cap of three.
	if !h.full() {
		t.Fatal("hub with 1 open and 2 pending of 3 is not full")
	}
	if err := h.add(&wsConn{player: "p2", cancel: func() {}}); !errors.Is(err, errHubFull) {
		t.Fatalf("add beyond the cap: %v", err)
	}
	h.releasePending()
	if h.full() {
		t.Fatal("a released handshake still counts")
	}
	h.remove(c)
	h.releasePending()
}

func TestConnectTokensReused(t *testing.T) {
	var c connectTokens
	t0 := time.Unix(1_700_000_000, 0)
	const ttl = time.Minute
	signed := 0
	sign := func(now time.Time) func() (string, time.Time, error) {
		return func() (string, time.Time, error) {
			signed++
			return "tok" + string(rune('0'+signed)), now.Add(ttl), nil
		}
	}
	steps := []struct {
		server, session string
		at              time.Duration
		wantSigned      int
	}{
		{"s1", "x", 0, 1},
		{"s1", "x", time.Second, 1},         // reused
		{"s1", "x", ttl / 2, 2},             // half its life gone: fresh
		{"s1", "x", ttl/2 + time.Second, 2}, // the fresh one reused
		{"s1", "y", ttl / 2, 3},             // another session: fresh
		{"s2", "y", ttl / 2, 4},             // another server: fresh
	}
	var last string
	for i, s := range steps {
		now := t0.Add(s.at)
		tok, exp, err := c.get(s.server, s.session, "p", now, sign(now))
		if err != nil || signed != s.wantSigned || exp.IsZero() {
			t.Fatalf("step %d: %d signatures (%v), want %d", i, signed, err, s.wantSigned)
		}
		if i > 0 && (tok == last) != (steps[i-1].wantSigned == s.wantSigned) {
			t.Fatalf("step %d: token %q after %q", i, tok, last)
		}
		last = tok
	}
}
