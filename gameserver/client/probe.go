package client

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"net"
	"slices"
	"sync"
	"time"

	"github.com/atollgg/atoll/contract"
	"github.com/atollgg/atoll/contract/beacon"
)

// Probing defaults.
const (
	// DefaultProbes is how many probes each region gets per measurement:
	// five make the minimum a stable figure while one lost probe is still
	// only 20% loss.
	DefaultProbes = 5
	// DefaultProbeTimeout is how long a probe waits for its reply; beyond
	// a second a region is unplayable anyway.
	DefaultProbeTimeout = time.Second
	// DefaultProbeSpacing separates a region's probes, so one queueing
	// burst on the path does not hit them all.
	DefaultProbeSpacing = 20 * time.Millisecond
	// SwitchFactor is the hysteresis: the chosen region is kept until it
	// gets this much slower than when it was chosen, or another region is
	// this much faster than it (as Photon re-probes at 1.2x).
	SwitchFactor = 1.2
)

// Measurement is a region's figure: the minimum round trip of its probes
// that came back, and the share that did not.
type Measurement struct {
	RTT  time.Duration
	Loss float64 // 0-1; 1 means unreachable and RTT is meaningless
}

// ProbeConfig configures ProbeRegions.
type ProbeConfig struct {
	// Probes per region; zero means DefaultProbes.
	Probes int
	// Timeout per probe; zero means DefaultProbeTimeout.
	Timeout time.Duration
	// Spacing between a region's probes; zero means DefaultProbeSpacing.
	Spacing time.Duration
	// LocalIP is the address probes are sent from; nil means the system's
	// choice. The dev stack gives each simulated home its own loopback
	// address.
	LocalIP net.IP
}

// ProbeRegions probes every region's beacons over UDP, regions in
// parallel, and returns a Measurement per region. A region whose relays
// all fail to answer has Loss 1.
func ProbeRegions(ctx context.Context, top contract.Topology, cfg ProbeConfig) map[string]Measurement {
	if cfg.Probes <= 0 {
		cfg.Probes = DefaultProbes
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultProbeTimeout
	}
	if cfg.Spacing <= 0 {
		cfg.Spacing = DefaultProbeSpacing
	}
	out := make(map[string]Measurement, len(top.Regions))
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, r := range top.Regions {
		wg.Add(1)
		go func() { // one per region; ends with its probes
			defer wg.Done()
			m := Measurement{Loss: 1}
			for _, rl := range r.Relays {
				got, err := probeBeacon(ctx, rl.Beacon, r.ID, cfg)
				if err == nil && (got.Loss < m.Loss || (got.Loss == m.Loss && got.RTT < m.RTT)) {
					m = got
				}
			}
			mu.Lock()
			out[r.ID] = m
			mu.Unlock()
		}()
	}
	wg.Wait()
	return out
}

// probeBeacon sends cfg.Probes probes to one beacon and measures them.
func probeBeacon(ctx context.Context, addr, region string, cfg ProbeConfig) (Measurement, error) {
	var d net.Dialer
	if cfg.LocalIP != nil {
		d.LocalAddr = &net.UDPAddr{IP: cfg.LocalIP}
	}
	conn, err := d.DialContext(ctx, "udp", addr)
	if err != nil {
		return Measurement{}, fmt.Errorf("probe %s: %w", addr, err)
	}
	defer conn.Close()
	var seed [8]byte
	_, _ = rand.Read(seed[:])
	base := binary.BigEndian.Uint64(seed[:])
	buf := make([]byte, 2*beacon.PacketSize)
	best, got := time.Duration(math.MaxInt64), 0
	for i := range cfg.Probes {
		if i > 0 {
			select {
			case <-ctx.Done():
				return Measurement{}, ctx.Err()
			case <-time.After(cfg.Spacing):
			}
		}
		nonce := base + uint64(i)
		sent := time.Now()
		if _, err := conn.Write(beacon.AppendRequest(nil, beacon.Request{Nonce: nonce, Timestamp: uint64(sent.UnixNano())})); err != nil {
			continue
		}
		_ = conn.SetReadDeadline(sent.Add(cfg.Timeout))
		for {
			n, err := conn.Read(buf)
			if err != nil {
				break // timed out: lost
			}
			rep, err := beacon.ParseReply(buf[:n])
			// A late reply to an earlier probe is skipped, not counted
			// against this one.
			if err != nil || rep.Nonce != nonce || rep.RegionID != region {
				continue
			}
			best = min(best, time.Since(sent))
			got++
			break
		}
	}
	if got == 0 {
		return Measurement{Loss: 1}, errors.New("no reply")
	}
	return Measurement{RTT: best, Loss: 1 - float64(got)/float64(cfg.Probes)}, nil
}

// LatenciesMs turns measurements into the latencies_ms of the matchmaking
// join and of POST /route, leaving out unreachable regions. A round trip
// under a millisecond counts as 1 ms, so a measured region is never 0.
func LatenciesMs(ms map[string]Measurement) map[string]int {
	out := make(map[string]int, len(ms))
	for id, m := range ms {
		if m.Loss < 1 {
			out[id] = max(1, int(m.RTT.Round(time.Millisecond)/time.Millisecond))
		}
	}
	return out
}

// LossPct turns measurements into the loss_pct of POST /route.
func LossPct(ms map[string]Measurement) map[string]float64 {
	out := map[string]float64{}
	for id, m := range ms {
		if m.Loss > 0 && m.Loss < 1 {
			out[id] = m.Loss * 100
		}
	}
	return out
}

// RegionChooser keeps a player's region across re-probes with hysteresis,
// so a player does not flip between two regions of similar latency: it
// moves only when the current region got SwitchFactor slower than when it
// was chosen, became unreachable, or another region is SwitchFactor faster.
// It caches the last measurements. It is safe for concurrent use.
type RegionChooser struct {
	mu       sync.Mutex // guards following
	current  string
	baseline time.Duration
	last     map[string]Measurement
}

// Update takes new measurements and returns the region to use and whether
// it changed.
func (c *RegionChooser) Update(ms map[string]Measurement) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.last = ms
	best, bestRTT := "", time.Duration(math.MaxInt64)
	ids := make([]string, 0, len(ms))
	for id := range ms {
		ids = append(ids, id)
	}
	slices.Sort(ids) // equal figures pick the same region every time
	for _, id := range ids {
		if m := ms[id]; m.Loss < 1 && m.RTT < bestRTT {
			best, bestRTT = id, m.RTT
		}
	}
	if best == "" {
		return c.current, false // nothing reachable: keep what we had
	}
	cur, ok := ms[c.current]
	switch {
	case c.current == "" || !ok || cur.Loss >= 1:
	case float64(cur.RTT) > SwitchFactor*float64(c.baseline):
		// The current region degraded: take the best now.
	case float64(bestRTT)*SwitchFactor < float64(cur.RTT):
		// Another region is clearly better.
	default:
		return c.current, false
	}
	changed := best != c.current
	c.current, c.baseline = best, bestRTT
	return best, changed
}

// Current is the chosen region and the measurements it was chosen from.
func (c *RegionChooser) Current() (string, map[string]Measurement) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.current, c.last
}
