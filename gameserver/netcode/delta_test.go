package netcode

import (
	"errors"
	"math"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/atollgg/atoll/gameserver/arena"
)

func roundTrip(t *testing.T, cur, base *Snapshot, ackSeq uint32) []byte {
	t.Helper()
	data, err := AppendSnapshot(nil, cur, base, ackSeq)
	if err != nil {
		t.Fatalf("AppendSnapshot: %v", err)
	}
	var got Snapshot
	if err := DecodeSnapshot(data, base, &got); err != nil {
		t.Fatalf("DecodeSnapshot: %v", err)
	}
	want := *cur
	want.AckSeq = ackSeq
	if !snapshotsEqual(&got, &want) {
		t.Fatalf("round trip mismatch at tick %d (base %v):\n got %+v\nwant %+v", cur.Tick, base != nil, got, want)
	}
	return data
}

// snapshotsEqual treats nil and empty slices alike.
func snapshotsEqual(a, b *Snapshot) bool {
	norm := func(s *Snapshot) Snapshot {
		c := *s
		if len(c.Players) == 0 {
			c.Players = nil
		}
		if len(c.Projectiles) == 0 {
			c.Projectiles = nil
		}
		return c
	}
	return reflect.DeepEqual(norm(a), norm(b))
}

func TestDeltaRoundTripLiveMatch(t *testing.T) {
	m := newLiveMatch(t, 16, 1)
	var snaps []*Snapshot
	for range 600 {
		m.step()
		snaps = append(snaps, m.capture())
	}
	var fullBytes, deltaBytes, deltas int
	for i, cur := range snaps {
		fullBytes += len(roundTrip(t, cur, nil, uint32(i)))
		for _, age := range []int{1, 2, 5, HistorySize - 1} {
			if i-age >= 0 {
				deltaBytes += len(roundTrip(t, cur, snaps[i-age], uint32(i)))
				deltas++
			}
		}
	}
	last := snaps[len(snaps)-1]
	if len(last.Players) == 0 || len(last.Projectiles) == 0 {
		t.Fatalf("match too quiet to test: %d players, %d projectiles", len(last.Players), len(last.Projectiles))
	}
	avgFull, avgDelta := fullBytes/len(snaps), deltaBytes/deltas
	t.Logf("16 players: full %d B, delta %d B on average", avgFull, avgDelta)
	if avgDelta >= avgFull {
		t.Fatalf("deltas (%d B) are no smaller than full snapshots (%d B)", avgDelta, avgFull)
	}
}

func TestDeltaRoundTripRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for i := range 500 {
		base := randomSnapshot(r, uint32(1000+i), uint32(r.IntN(1000)))
		cur := randomSnapshot(r, base.Tick+1+uint32(r.IntN(HistorySize-1)), uint32(r.IntN(1000)))
		roundTrip(t, cur, base, r.Uint32())
		roundTrip(t, cur, nil, 0)
		roundTrip(t, base, nil, math.MaxUint32)
	}
	// Identical snapshots encode to a header (at most 6 bytes plus a
	// 5-byte TicksLeft) and four zero section counts.
	s := randomSnapshot(r, 10, 0)
	next := *s
	next.Tick = 11
	if data := roundTrip(t, &next, s, 0); len(data) > 6+5+8 || string(data[len(data)-8:]) != string(make([]byte, 8)) {
		t.Fatalf("unchanged delta is %d bytes", len(data))
	}
}

func TestWorstCaseSnapshotFitsFrame(t *testing.T) {
	s := &Snapshot{Tick: math.MaxUint32, TicksLeft: math.MaxUint32, Over: true, EndReason: arena.EndTimeLimit}
	for id := range MaxPlayersPerSnapshot {
		s.Players = append(s.Players, PlayerState{
			ID: arena.PlayerID(id), X: math.MinInt32, Y: math.MinInt32, VX: math.MinInt32, VY: math.MinInt32, Aim: math.MaxUint16,
			Health: math.MinInt32, Flags: 3, RespawnIn: math.MaxUint32, Score: math.MinInt32, Kills: math.MinInt32, Deaths: math.MinInt32,
		})
	}
	for i := range MaxProjectilesPerSnapshot {
		s.Projectiles = append(s.Projectiles, ProjectileState{
			ID: math.MaxUint32 - uint32(MaxProjectilesPerSnapshot-i)*1_000_000, Owner: arena.MaxPlayers - 1, SpawnTick: 0,
			X: math.MinInt32, Y: math.MinInt32, VX: math.MinInt32, VY: math.MinInt32,
		})
	}
	data := roundTrip(t, s, nil, math.MaxUint32)
	t.Logf("worst-case full snapshot: %d bytes of %d", len(data), MaxFrameSize)
	s.Players = append(s.Players, PlayerState{ID: 1})
	if _, err := AppendSnapshot(nil, s, nil, 0); err == nil {
		t.Fatal("encoder accepted an out-of-order, over-limit snapshot")
	}
}

func TestDecodeSnapshotRejects(t *testing.T) {
	m := newLiveMatch(t, 8, 2)
	for range 60 {
		m.step()
	}
	base := m.capture()
	for range 3 {
		m.step()
	}
	cur := m.capture()
	delta, err := AppendSnapshot(nil, cur, base, 7)
	if err != nil {
		t.Fatal(err)
	}
	full, err := AppendSnapshot(nil, cur, nil, 7)
	if err != nil {
		t.Fatal(err)
	}
	other := *base
	other.Tick--

	cases := []struct {
		name string
		data []byte
		base *Snapshot
		want error
	}{
		{"empty", nil, nil, ErrMalformed},
		{"wrong kind", []byte{byte(FrameInput), 0}, nil, ErrMalformed},
		{"truncated", delta[:len(delta)-1], base, ErrMalformed},
		{"trailing", append(append([]byte{}, full...), 0), nil, ErrMalformed},
		{"missing baseline", delta, nil, ErrUnknownBaseline},
		{"wrong baseline", delta, &other, ErrUnknownBaseline},
		{"baseline age too large", []byte{byte(FrameSnapshot), 100, HistorySize}, nil, ErrMalformed},
		{"baseline before tick 0", []byte{byte(FrameSnapshot), 1, 2}, nil, ErrMalformed},
		{"too large", make([]byte, MaxFrameSize+1), nil, ErrFrameTooLarge},
		{"bad end reason", []byte{byte(FrameSnapshot), 1, 0, 0, 0, 7 << 1, 0, 0, 0, 0, 0, 0, 0, 0}, nil, ErrMalformed},
		{"player id out of range", []byte{byte(FrameSnapshot), 1, 0, 0, 0, 0, 0, 0, 1, 0, 64, 0, 0, 0, 0, 0}, nil, ErrMalformed},
		{"unknown field bit", []byte{byte(FrameSnapshot), 1, 0, 0, 0, 0, 0, 0, 1, 0, 3, 0x80, 0x10, 0, 0, 0, 0}, nil, ErrMalformed},
		{"non-ascending ids", []byte{byte(FrameSnapshot), 1, 0, 0, 0, 0, 0, 0, 2, 0, 3, 0, 0, 0, 0, 0, 0, 0}, nil, ErrMalformed},
		{"removed id not in baseline", []byte{byte(FrameSnapshot), 1, 0, 0, 0, 0, 1, 0, 5, 0, 0, 0, 0, 0, 0}, nil, ErrMalformed},
		{"field overflow", []byte{byte(FrameSnapshot), 1, 0, 0, 0, 0, 0, 0, 1, 0, 3, 1, 0xfe, 0xff, 0xff, 0xff, 0x7f, 0, 0, 0, 0}, nil, ErrMalformed},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var dst Snapshot
			if err := DecodeSnapshot(tc.data, tc.base, &dst); !errors.Is(err, tc.want) {
				t.Fatalf("DecodeSnapshot = %v, want %v", err, tc.want)
			}
		})
	}
	if err := DecodeSnapshot(full, base, base); err == nil {
		t.Fatal("decoding into the baseline itself was accepted")
	}
}

func TestSessionDeltaStream(t *testing.T) {
	// A server conn and a client conn over a lossy, laggy link: every
	// snapshot the client manages to decode equals what the server captured.
	for _, enc := range []Encoding{Binary, JSON} {
		m := newLiveMatch(t, 12, 5)
		hist := NewHistory()
		sc := NewServerConn(hist, enc)
		cc := NewClientConn()
		r := rand.New(rand.NewPCG(8, 8))
		type packet struct {
			at   int
			data []byte
		}
		var down, up []packet
		decoded, unknownBase := 0, 0
		var frame ServerFrame
		for tick := range 900 {
			m.step()
			cur := hist.Capture(m.w)
			data, err := sc.AppendSnapshot(nil, cur, uint32(tick))
			if err != nil {
				t.Fatal(err)
			}
			if r.IntN(5) != 0 { // 20% loss
				down = append(down, packet{tick + 2 + r.IntN(4), data})
			}
			// The client acks what it decodes; acks are lossy too.
			for len(down) > 0 && down[0].at <= tick {
				p := down[0]
				down = down[1:]
				err := cc.DecodeServerFrame(p.data, &frame)
				if errors.Is(err, ErrUnknownBaseline) {
					unknownBase++
					continue
				}
				if err != nil {
					t.Fatalf("%v: decode: %v", enc, err)
				}
				want := hist.Lookup(frame.Snapshot.Tick)
				if want == nil {
					t.Fatalf("snapshot %d fell out of history", frame.Snapshot.Tick)
				}
				w := *want
				w.AckSeq = frame.Snapshot.AckSeq
				if !snapshotsEqual(frame.Snapshot, &w) {
					t.Fatalf("%v: tick %d reconstructed wrongly", enc, w.Tick)
				}
				decoded++
				if r.IntN(5) != 0 {
					up = append(up, packet{tick + 2, nil})
					up[len(up)-1].data = []byte{byte(frame.Snapshot.Tick), byte(frame.Snapshot.Tick >> 8)}
				}
			}
			for len(up) > 0 && up[0].at <= tick {
				sc.Ack(uint32(up[0].data[0]) | uint32(up[0].data[1])<<8)
				up = up[1:]
			}
		}
		t.Logf("%v: %d decoded, %d full, %d delta, %d unknown baseline", enc, decoded, sc.Full, sc.Delta, unknownBase)
		if decoded < 600 {
			t.Fatalf("%v: only %d snapshots decoded", enc, decoded)
		}
		if enc == Binary && sc.Delta < sc.Full*10 {
			t.Fatalf("binary stream mostly full snapshots: %d full, %d delta", sc.Full, sc.Delta)
		}
		if unknownBase != 0 {
			t.Fatalf("%v: %d snapshots named a baseline the client never acked", enc, unknownBase)
		}
	}
}

func TestServerConnBaselineSelection(t *testing.T) {
	m := newLiveMatch(t, 4, 6)
	hist := NewHistory()
	sc := NewServerConn(hist, Binary)
	send := func() (*Snapshot, SnapshotHeader) {
		m.step()
		cur := hist.Capture(m.w)
		data, err := sc.AppendSnapshot(nil, cur, 0)
		if err != nil {
			t.Fatal(err)
		}
		h, err := PeekSnapshot(data)
		if err != nil {
			t.Fatal(err)
		}
		return cur, h
	}
	first, h := send()
	if h.HasBase {
		t.Fatal("first snapshot was a delta")
	}
	if sc.Ack(first.Tick + 1) {
		t.Fatal("ack of a never-sent tick accepted")
	}
	if !sc.Ack(first.Tick) {
		t.Fatal("ack of a sent tick refused")
	}
	if _, h = send(); !h.HasBase || h.Baseline != first.Tick {
		t.Fatalf("header %+v, want delta against %d", h, first.Tick)
	}
	if sc.Ack(first.Tick) {
		t.Fatal("duplicate ack moved the baseline")
	}
	// Let the baseline age out of the window: the server falls back to full.
	for range HistorySize {
		send()
	}
	if _, h = send(); h.HasBase {
		t.Fatalf("baseline %d ticks old still used", h.Tick-h.Baseline)
	}
}
