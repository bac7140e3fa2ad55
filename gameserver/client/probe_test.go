package client

import (
	"context"
	"testing"
	"time"

	"github.com/atollgg/atoll/contract"
	"github.com/atollgg/atoll/relay/beacon"
)

func TestProbeRegions(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	start := func(region string) string {
		b, err := beacon.New(beacon.Config{Addr: "127.0.0.1:0", RelayID: region + "-r1", RegionID: region, Workers: 1})
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- b.Run(ctx) }()
		t.Cleanup(func() { cancel(); <-done })
		return b.Addr().String()
	}
	top := contract.Topology{Regions: []contract.TopologyRegion{
		{ID: "eu", Relays: []contract.TopologyRelay{{Beacon: start("eu")}}},
		{ID: "us", Relays: []contract.TopologyRelay{{Beacon: start("us")}}},
		// A beacon of another region at eu's address: its replies name eu,
		// so they do not count for "xx".
		{ID: "xx", Relays: []contract.TopologyRelay{{}}},
	}}
	top.Regions[2].Relays[0].Beacon = top.Regions[0].Relays[0].Beacon
	ms := ProbeRegions(ctx, top, ProbeConfig{Probes: 3, Timeout: 200 * time.Millisecond, Spacing: time.Millisecond})
	for _, id := range []string{"eu", "us"} {
		if m := ms[id]; m.Loss != 0 || m.RTT <= 0 {
			t.Errorf("%s measured %+v", id, m)
		}
	}
	if m := ms["xx"]; m.Loss != 1 {
		t.Errorf("region answered by another region's beacon measured %+v", m)
	}
	lat := LatenciesMs(ms)
	if len(lat) != 2 || lat["eu"] < 1 || lat["us"] < 1 {
		t.Fatalf("latencies %v", lat)
	}
}

func TestRegionChooserHysteresis(t *testing.T) {
	ms := func(eu, us time.Duration) map[string]Measurement {
		m := map[string]Measurement{"eu": {RTT: eu}, "us": {RTT: us}}
		if eu < 0 {
			m["eu"] = Measurement{Loss: 1}
		}
		return m
	}
	var c RegionChooser
	steps := []struct {
		name    string
		in      map[string]Measurement
		want    string
		changed bool
	}{
		{"first choice", ms(20*time.Millisecond, 30*time.Millisecond), "eu", true},
		{"slightly better elsewhere: stay", ms(22*time.Millisecond, 20*time.Millisecond), "eu", false},
		{"current 1.2x slower than chosen: re-choose", ms(25*time.Millisecond, 21*time.Millisecond), "us", true},
		{"back near the old one: stay", ms(20*time.Millisecond, 22*time.Millisecond), "us", false},
		{"clearly better elsewhere: move", ms(10*time.Millisecond, 22*time.Millisecond), "eu", true},
		{"current unreachable: move", ms(-1, 40*time.Millisecond), "us", true},
		{"nothing reachable: keep", map[string]Measurement{"us": {Loss: 1}}, "us", false},
	}
	for _, s := range steps {
		got, changed := c.Update(s.in)
		if got != s.want || changed != s.changed {
			t.Fatalf("%s: got %s (changed %v), want %s (changed %v)", s.name, got, changed, s.want, s.changed)
		}
	}
}
