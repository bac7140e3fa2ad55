package beacon

import (
	"context"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/atollgg/atoll/contract/beacon"
	"github.com/prometheus/client_golang/prometheus"
)

// replyWait bounds a wait for a reply on loopback, which takes microseconds;
// only a stalled machine comes near it.
const replyWait = 5 * time.Second

func startBeacon(t testing.TB, cfg Config) *Beacon {
	t.Helper()
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:0"
	}
	if cfg.RelayID == "" {
		cfg.RelayID, cfg.RegionID = "eu-r1", "eu"
	}
	b, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- b.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("beacon run: %v", err)
		}
	})
	return b
}

func dial(t testing.TB, b *Beacon, local string) *net.UDPConn {
	t.Helper()
	var laddr *net.UDPAddr
	if local != "" {
		laddr = net.UDPAddrFromAddrPort(netip.AddrPortFrom(netip.MustParseAddr(local), 0))
	}
	c, err := net.DialUDP("udp", laddr, net.UDPAddrFromAddrPort(b.Addr()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestBeaconAnswers(t *testing.T) {
	reg := prometheus.NewRegistry()
	b := startBeacon(t, Config{Load: func() uint8 { return 37 }, Registry: reg, Workers: 2})
	c := dial(t, b, "")
	req := beacon.Request{Nonce: 99, Timestamp: uint64(time.Now().UnixNano())}
	if _, err := c.Write(beacon.AppendRequest(nil, req)); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 2048)
	_ = c.SetReadDeadline(time.Now().Add(replyWait))
	n, err := c.Read(buf)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := beacon.ParseReply(buf[:n])
	if err != nil {
		t.Fatal(err)
	}
	want := beacon.Reply{Nonce: 99, Timestamp: req.Timestamp, Load: 37, RelayID: "eu-r1", RegionID: "eu"}
	if rep != want {
		t.Fatalf("reply %+v, want %+v", rep, want)
	}
	waitDone(t, b, 1)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, mf := range mfs {
		if mf.GetName() == "atoll_relay_beacon_replies_total" {
			found = mf.GetMetric()[0].GetCounter().GetValue() == 1
		}
	}
	if !found {
		t.Fatalf("no atoll_relay_beacon_replies_total of 1 in %v", mfs)
	}
}

// TestBeaconDropsMalformed sends what must not be answered and checks that
// nothing comes back and every datagram is counted.
func TestBeaconDropsMalformed(t *testing.T) {
	b := startBeacon(t, Config{})
	c := dial(t, b, "")
	good := beacon.AppendRequest(nil, beacon.Request{Nonce: 1})
	reply := make([]byte, beacon.PacketSize)
	beacon.PutReply(reply, beacon.Request{}, 0, "x", "y")
	bad := [][]byte{
		{}, []byte("ATLB"), good[:beacon.PacketSize-1], append([]byte("XXXX"), good[4:]...), reply,
	}
	for _, d := range bad {
		if _, err := c.Write(d); err != nil {
			t.Fatal(err)
		}
	}
	s := waitDone(t, b, uint64(len(bad)))
	if s.Malformed != uint64(len(bad)) || s.Replies != 0 || s.BytesOut != 0 {
		t.Fatalf("stats %+v", s)
	}
	// The beacon is still answering, and the first datagram back is the
	// answer to the good request: nothing was sent for the bad ones.
	if _, err := c.Write(good); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 2048)
	_ = c.SetReadDeadline(time.Now().Add(replyWait))
	n, err := c.Read(buf)
	if err != nil {
		t.Fatal(err)
	}
	if rep, err := beacon.ParseReply(buf[:n]); err != nil || rep.Nonce != 1 {
		t.Fatalf("reply %+v, %v", rep, err)
	}
}

func TestLimiter(t *testing.T) {
	t0 := time.Unix(1000, 0)
	a, b, c := netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("10.0.0.2"), netip.MustParseAddr("10.0.0.3")
	l := newLimiter(2, 2)
	steps := []struct {
		src  netip.Addr
		at   time.Duration
		want bool
	}{
		{a, 0, true}, {a, 0, true}, {a, 0, false}, // a's rate
		{b, 0, true},
		{c, 0, false},                                  // the table is full this window
		{a, LimitWindow, true}, {c, LimitWindow, true}, // a new window forgets
		{b, LimitWindow, false}, // and is bounded again
		{a, -time.Hour, true},   // a clock step back starts a window
	}
	for i, s := range steps {
		if got := l.allow(s.src, t0.Add(s.at)); got != s.want {
			t.Fatalf("step %d: allow(%v, +%v) = %v", i, s.src, s.at, got)
		}
	}
}

// TestFloodNoAmplification floods the beacon from many source addresses
// with a mix of good, short, oversized, malformed and over-the-rate
// datagrams and checks it never sends more bytes than it received, both by
// its own counters and by what the sources got back.
func TestFloodNoAmplification(t *testing.T) {
	const sources, perSource = 64, 40
	b := startBeacon(t, Config{PerSourceRate: 10, MaxSources: 32, Workers: 2})
	conns := make([]*net.UDPConn, sources)
	sent := make([]int, sources)
	for s := range sources {
		conns[s] = dial(t, b, netip.AddrFrom4([4]byte{127, 0, 1, byte(s + 1)}).String())
	}
	// In rounds of one datagram per source, each round read before the
	// next, so no kernel buffer anywhere overflows and every datagram is
	// accounted for.
	total := 0
	for i := range perSource {
		for s, c := range conns {
			d := beacon.AppendRequest(nil, beacon.Request{Nonce: uint64(i)})
			switch i % 4 {
			case 1:
				d = d[:8] // short: answering it would amplify
			case 2:
				d = append(d, make([]byte, 1000)...) // oversized
			case 3:
				d = []byte("GET / HTTP/1.1\r\n\r\n")
			}
			if _, err := c.Write(d); err != nil {
				t.Fatal(err)
			}
			sent[s] += len(d)
			total += len(d)
		}
		waitDone(t, b, uint64((i+1)*sources))
	}
	st := waitDone(t, b, sources*perSource)
	if st.BytesIn != uint64(total) {
		t.Fatalf("beacon read %d bytes, sources sent %d", st.BytesIn, total)
	}
	// Rate limiting depends on how many rounds fall in one LimitWindow
	// (TestLimiter checks it exactly); what must hold whatever the timing
	// is that no more bytes leave than arrived.
	if st.BytesOut > st.BytesIn || st.Replies == 0 || st.Malformed == 0 {
		t.Fatalf("stats %+v: want replies, drops, and bytes out <= bytes in", st)
	}
	// Loopback delivers during the send, so every reply is queued at its
	// source by now; no source got more than it sent.
	received := 0
	buf := make([]byte, 4096)
	for s, c := range conns {
		// Replies wait in each source's socket (at most 40 × 160 bytes).
		got := 0
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Millisecond))
		for {
			n, err := c.Read(buf)
			if err != nil {
				break
			}
			got += n
		}
		if got > sent[s] {
			t.Errorf("source %d sent %d bytes and got %d back", s, sent[s], got)
		}
		received += got
	}
	if uint64(received) != st.BytesOut {
		t.Errorf("sources received %d bytes, beacon counted %d sent", received, st.BytesOut)
	}
	t.Logf("flood: %d bytes in, %d out (%d replies, %d malformed, %d rate-limited)", st.BytesIn, st.BytesOut, st.Replies, st.Malformed, st.RateLimited)
}

// waitDone waits until the beacon has read n datagrams and answered or
// dropped each of them.
func waitDone(t *testing.T, b *Beacon, n uint64) Stats {
	t.Helper()
	deadline := time.Now().Add(replyWait)
	for {
		s := b.Stats()
		if s.PacketsIn >= n && s.Replies+s.Malformed+s.RateLimited+s.SendErrors == s.PacketsIn {
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("beacon stats %+v, want %d datagrams handled", s, n)
		}
		time.Sleep(time.Millisecond)
	}
}
