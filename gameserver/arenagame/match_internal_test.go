package arenagame

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/atollgg/atoll/gameserver/arena"
	"github.com/atollgg/atoll/gameserver/netcode"
	"github.com/atollgg/atoll/gameserver/sdk"
	"github.com/atollgg/atoll/gameserver/server"
	"github.com/coder/websocket"
)

// memRoom is a room without a network: what the game sends is counted,
// kicks are recorded. It lets the fuzzer drive the match's message
// handling directly, thousands of times a second.
type memRoom struct {
	match  server.Match
	msgs   chan server.Message
	frames map[string]int
	kicked map[string]string
}

func newMemRoom(players ...string) *memRoom {
	m := server.Match{SessionID: "session", Mode: "arena"}
	for i, p := range players {
		m.Players = append(m.Players, sdk.Player{ID: p, Team: i})
	}
	return &memRoom{match: m, msgs: make(chan server.Message, 64), frames: map[string]int{}, kicked: map[string]string{}}
}

func (r *memRoom) Match() server.Match               { return r.match }
func (r *memRoom) Messages() <-chan server.Message   { return r.msgs }
func (r *memRoom) Started(ctx context.Context) error { return nil }
func (r *memRoom) Send(id string, binary bool, data []byte) bool {
	r.frames[id]++
	return true
}
func (r *memRoom) Kick(id string, code websocket.StatusCode, reason string) { r.kicked[id] = reason }
func (r *memRoom) Telemetry(events ...sdk.TelemetryEvent) {
	for _, e := range events {
		if err := e.Validate(); err != nil {
			panic(fmt.Sprintf("invalid telemetry event %+v: %v", e, err))
		}
	}
}

// startedMatch returns a match in play with players seated and welcomed
// (binary encoding).
func startedMatch(t testing.TB, players ...string) (*match, *memRoom) {
	t.Helper()
	g, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	r := newMemRoom(players...)
	m, err := newMatch(g.cfg, r)
	if err != nil {
		t.Fatal(err)
	}
	ping, _ := netcode.AppendClientFrame(nil, netcode.Binary, &netcode.ClientFrame{Kind: netcode.FramePing})
	for _, p := range players {
		m.handle(server.Message{Kind: server.Joined, PlayerID: p, At: time.Now()})
		m.handle(server.Message{Kind: server.Frame, PlayerID: p, Binary: true, Data: ping, At: time.Now()})
	}
	m.started = true
	m.step(true, false)
	return m, r
}

func FuzzClientFrames(f *testing.F) {
	in := []arena.Input{{Seq: 1, Tick: 1, MoveX: 1, Aim: 2, Fire: true}, {Seq: 2, Tick: 1, MoveY: -0.5}}
	for _, enc := range []netcode.Encoding{netcode.Binary, netcode.JSON} {
		for _, cf := range []netcode.ClientFrame{
			{Kind: netcode.FrameInput, Inputs: in, HasAck: true, AckTick: 1},
			{Kind: netcode.FrameAck, AckTick: 1},
			{Kind: netcode.FramePing, Ping: netcode.Ping{ID: 3, ClientTime: 9}},
		} {
			b, err := netcode.AppendClientFrame(nil, enc, &cf)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(b, enc == netcode.Binary)
		}
	}
	f.Add([]byte{}, true)
	f.Add([]byte("{"), false)
	f.Add([]byte{0x01, 0x01, 0xff, 0xff, 0xff, 0xff, 0x0f}, true)
	f.Fuzz(func(t *testing.T, data []byte, binary bool) {
		m, r := startedMatch(t, "fuzzer", "honest")
		honest, _ := netcode.AppendClientFrame(nil, netcode.Binary, &netcode.ClientFrame{
			Kind: netcode.FrameInput, Inputs: []arena.Input{{Seq: 1, Tick: m.w.Tick(), MoveX: 0.5}},
		})
		before := r.frames["honest"]
		for range 3 {
			m.handle(server.Message{Kind: server.Frame, PlayerID: "fuzzer", Binary: binary, Data: data, At: time.Now()})
		}
		m.handle(server.Message{Kind: server.Frame, PlayerID: "honest", Binary: true, Data: honest, At: time.Now()})
		m.step(true, false)
		if reason, ok := r.kicked["fuzzer"]; ok && reason == "internal_error" {
			t.Fatalf("frame %x made the match panic", data)
		}
		if _, kicked := r.kicked["honest"]; kicked || m.w.LastProcessedSeq(m.peers["honest"].seat) != 1 {
			t.Fatalf("frame %x disturbed another player", data)
		}
		if r.frames["honest"] <= before {
			t.Fatalf("frame %x stopped the snapshot stream", data)
		}
	})
}

func TestOutcomeResults(t *testing.T) {
	match := server.Match{Players: []sdk.Player{{ID: "a"}, {ID: "b"}, {ID: "c"}, {ID: "absent"}}}
	sec := func(n int) time.Duration { return time.Duration(n) * time.Second }
	world := []arena.Result{
		{Account: "a", Score: 2, Kills: 2, Deaths: 1, TimePlayed: sec(10)},
		// b left past the grace and came back: two records, summed.
		{Account: "b", Score: 1, Kills: 1, Deaths: 0, TimePlayed: sec(4)},
		{Account: "b", Score: 1, Kills: 1, Deaths: 1, TimePlayed: sec(5)},
		{Account: "c", Score: 0, Kills: 0, Deaths: 3, TimePlayed: sec(10), Kicked: true},
		{Account: "stranger", Score: 99}, // never admitted; ignored
	}
	got := outcomeResults(match, world)
	want := []sdk.PlayerResult{
		{PlayerID: "a", Score: 2, Kills: 2, Deaths: 1, Placement: 1, TimePlayedS: 10},
		{PlayerID: "b", Score: 2, Kills: 2, Deaths: 1, Placement: 1, TimePlayedS: 9},
		{PlayerID: "absent", Placement: 3},
		{PlayerID: "c", Deaths: 3, Placement: 4, TimePlayedS: 10},
	}
	if !slices.Equal(got, want) {
		t.Fatalf("results\n got %+v\nwant %+v", got, want)
	}
}

func TestConfigFromEnv(t *testing.T) {
	tests := []struct {
		env     map[string]string
		wantErr bool
		check   func(Config) bool
	}{
		{env: nil, check: func(c Config) bool {
			return c.Arena.TickRate == 0 && c.SnapshotRate == 0 && c.JoinTimeout == 0 && c.Arena.TimeLimit == 0
		}},
		{env: map[string]string{EnvTickRate: "60", EnvSnapshotRate: "20", EnvScoreLimit: "10",
			server.EnvGameDuration: "90s", server.EnvGameJoinTimeout: "5s", EnvReconnectGrace: "10s"},
			check: func(c Config) bool {
				return c.Arena.TickRate == 60 && c.SnapshotRate == 20 && c.Arena.ScoreLimit == 10 &&
					c.Arena.TimeLimit == 90*time.Second && c.JoinTimeout == 5*time.Second && c.Arena.ReconnectGrace == 10*time.Second
			}},
		{env: map[string]string{EnvTickRate: "fast"}, wantErr: true},
		{env: map[string]string{EnvTickRate: "1000"}, wantErr: true},                      // beyond arena.MaxTickRate
		{env: map[string]string{EnvTickRate: "20", EnvSnapshotRate: "30"}, wantErr: true}, // faster than ticks
		{env: map[string]string{server.EnvGameDuration: "-1s"}, wantErr: true},
	}
	for _, tc := range tests {
		c, err := ConfigFromEnv(func(k string) string { return tc.env[k] })
		if (err != nil) != tc.wantErr {
			t.Errorf("env %v: err %v, want error %v", tc.env, err, tc.wantErr)
			continue
		}
		if err == nil && !tc.check(c) {
			t.Errorf("env %v: config %+v", tc.env, c)
		}
	}
}

func TestDefaultsScaleWithTickRate(t *testing.T) {
	c := Config{Arena: arena.Config{TickRate: 60}}.withDefaults()
	if c.SnapshotRate != DefaultSnapshotRate || c.Arena.InputGateBudget != 120 {
		t.Errorf("at 60 Hz: snapshot rate %d, gate budget %d; want %d and 120", c.SnapshotRate, c.Arena.InputGateBudget, DefaultSnapshotRate)
	}
	if got := snapshotEvery(60, 30); got != 2 {
		t.Errorf("60 Hz ticks, 30 Hz snapshots: every %d ticks, want 2", got)
	}
	c = Config{Arena: arena.Config{TickRate: 20}}.withDefaults()
	if c.SnapshotRate != 20 {
		t.Errorf("at 20 Hz the snapshot rate defaults to %d, want 20", c.SnapshotRate)
	}
}

// After a stall, the loop catches up tick by tick, feeding each tick the
// inputs that had arrived by its end: an honest client whose inputs piled
// up during the stall keeps all its movement and is not flagged.
func TestCatchUpFeedsInputsTickByTick(t *testing.T) {
	m, r := startedMatch(t, "p")
	const stalled = 12 // ticks, more than arena's banked input burst
	now := time.Now()
	start := now.Add(-time.Duration(uint64(m.w.Tick())+stalled) * m.interval)
	seat := m.peers["p"].seat
	for i := range stalled {
		f, _ := netcode.AppendClientFrame(nil, netcode.Binary, &netcode.ClientFrame{Kind: netcode.FrameInput,
			Inputs: []arena.Input{{Seq: uint32(i + 1), Tick: m.w.Tick(), MoveX: 1}}})
		at := start.Add(time.Duration(uint64(m.w.Tick())+uint64(i)) * m.interval).Add(m.interval / 2)
		r.msgs <- server.Message{Kind: server.Frame, PlayerID: "p", Binary: true, Data: f, At: at}
	}
	before := m.w.Tick()
	snapshots := r.frames["p"]
	if over := m.advance(&start, now, uint64(maxCatchUp/m.interval)); over {
		t.Fatal("match over")
	}
	if got := m.w.Tick() - before; got != stalled {
		t.Errorf("caught up %d ticks, want %d", got, stalled)
	}
	if got := m.w.LastProcessedSeq(seat); got != stalled {
		t.Errorf("applied inputs up to %d, want %d", got, stalled)
	}
	if c := m.w.Violations(seat); c.Total() != 0 {
		t.Errorf("an honest client was flagged after a stall: %v", countsByName(c))
	}
	if sent := r.frames["p"] - snapshots; sent != 1 {
		t.Errorf("catching up streamed %d frames, want one snapshot", sent)
	}

	// A stall beyond maxCatchUp is skipped, not replayed.
	start = now.Add(-time.Duration(uint64(m.w.Tick())) * m.interval).Add(-5 * time.Second)
	before = m.w.Tick()
	m.advance(&start, now, uint64(maxCatchUp/m.interval))
	if got := m.w.Tick() - before; got != uint32(maxCatchUp/m.interval) || m.stats.skippedTicks == 0 {
		t.Errorf("after a 5 s stall: ran %d ticks, skipped %d", got, m.stats.skippedTicks)
	}
}
