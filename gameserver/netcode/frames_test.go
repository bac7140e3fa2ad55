package netcode

import (
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/atollgg/atoll/gameserver/arena"
)

func sampleInputs(n int) []arena.Input {
	ins := make([]arena.Input, n)
	seq := uint32(1000)
	for i := range ins {
		seq += 1 + uint32(i%2) // gaps, as when a frame was never sent
		ins[i] = arena.Input{
			Seq: seq, Tick: uint32(5000 + i - 3*(i%3)),
			MoveX: float32(math.Sin(float64(i))), MoveY: -0.5, Aim: float32(i) * 0.4, Fire: i%3 == 0,
		}
	}
	return ins
}

func TestClientFrameRoundTrip(t *testing.T) {
	cases := []struct {
		name string
		f    ClientFrame
	}{
		{"one input", ClientFrame{Kind: FrameInput, Inputs: sampleInputs(1)}},
		{"batched inputs with ack", ClientFrame{Kind: FrameInput, Inputs: sampleInputs(MaxInputsPerFrame), AckTick: 4999, HasAck: true}},
		{"extreme seq", ClientFrame{Kind: FrameInput, Inputs: []arena.Input{{Seq: math.MaxUint32 - 1, Tick: math.MaxUint32}, {Seq: math.MaxUint32, Tick: 0, MoveX: -1, MoveY: 1, Aim: -6.28}}}},
		{"ack", ClientFrame{Kind: FrameAck, AckTick: math.MaxUint32, HasAck: true}},
		{"ping", ClientFrame{Kind: FramePing, Ping: Ping{ID: 9, ClientTime: math.MaxUint64}}},
	}
	for _, tc := range cases {
		for _, enc := range []Encoding{Binary, JSON} {
			t.Run(tc.name+"/"+[]string{"binary", "json"}[enc], func(t *testing.T) {
				data, err := AppendClientFrame(nil, enc, &tc.f)
				if err != nil {
					t.Fatalf("encode: %v", err)
				}
				var got ClientFrame
				if err := DecodeClientFrame(data, &got); err != nil {
					t.Fatalf("decode: %v", err)
				}
				want := tc.f
				want.Inputs = nil
				for _, in := range tc.f.Inputs {
					want.Inputs = append(want.Inputs, in.Quantized())
				}
				if len(got.Inputs) == 0 {
					got.Inputs = nil
				}
				if !reflect.DeepEqual(got, want) {
					t.Fatalf("round trip:\n got %+v\nwant %+v", got, want)
				}
				// Consecutive inputs cost ~7 bytes each.
				if enc == Binary && len(tc.f.Inputs) == MaxInputsPerFrame && len(data) > 7*len(tc.f.Inputs)+12 {
					t.Fatalf("%d inputs took %d bytes", len(tc.f.Inputs), len(data))
				}
			})
		}
	}
}

func TestClientFrameEncodeRejects(t *testing.T) {
	for _, f := range []ClientFrame{
		{Kind: FrameInput},
		{Kind: FrameInput, Inputs: sampleInputs(MaxInputsPerFrame + 1)},
		{Kind: FrameInput, Inputs: []arena.Input{{Seq: 0}}},
		{Kind: FrameInput, Inputs: []arena.Input{{Seq: 2}, {Seq: 2}}},
		{Kind: FrameSnapshot},
	} {
		if _, err := AppendClientFrame(nil, Binary, &f); err == nil {
			t.Errorf("encoded invalid frame %+v", f)
		}
	}
}

func TestDecodeClientFrameRejects(t *testing.T) {
	valid, err := AppendClientFrame(nil, Binary, &ClientFrame{Kind: FrameInput, Inputs: sampleInputs(2)})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		data string
		want error
	}{
		{"empty", "", ErrMalformed},
		{"unknown kind", "\x7f", ErrMalformed},
		{"server kind", "\x11\x00", ErrMalformed},
		{"truncated", string(valid[:len(valid)-1]), ErrMalformed},
		{"trailing", string(valid) + "\x00", ErrMalformed},
		{"zero inputs", "\x01\x00\x00", ErrMalformed},
		{"too many inputs", "\x01\x00\x21", ErrMalformed},
		{"seq zero", "\x01\x00\x01\x00\x00\x00\x00\x00\x00\x00", ErrMalformed},
		{"seq not increasing", "\x01\x00\x02\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00", ErrMalformed},
		{"seq overflow", "\x01\x00\x02\xfe\xff\xff\xff\x0f\x00\x00\x00\x00\x00\x00\x02\x00\x00\x00\x00\x00\x00", ErrMalformed},
		{"tick underflow", "\x01\x00\x02\x01\x00\x00\x00\x00\x00\x00\x01\x01\x00\x00\x00\x00\x00", ErrMalformed},
		{"move -128", "\x01\x00\x01\x01\x00\x80\x00\x00\x00\x00", ErrMalformed},
		{"unknown input flag", "\x01\x00\x01\x01\x00\x00\x00\x00\x00\x02", ErrMalformed},
		{"unknown frame flag", "\x01\x02\x01\x01\x00\x00\x00\x00\x00\x00", ErrMalformed},
		{"ack overflow", "\x02\xff\xff\xff\xff\x1f", ErrMalformed},
		{"varint overflow", "\x02\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", ErrMalformed},
		{"oversized", "\x01" + strings.Repeat("\x00", MaxClientFrameSize), ErrFrameTooLarge},
		{"json unknown kind", `{"kind":"fire"}`, ErrMalformed},
		{"json unknown field", `{"kind":"ack","ack":1,"x":2}`, ErrMalformed},
		{"json trailing", `{"kind":"ack","ack":1}{}`, ErrMalformed},
		{"json ack without tick", `{"kind":"ack"}`, ErrMalformed},
		{"json move out of range", `{"kind":"input","inputs":[{"seq":1,"tick":1,"move_x":2,"move_y":0,"aim":0}]}`, ErrMalformed},
		{"json aim out of range", `{"kind":"input","inputs":[{"seq":1,"tick":1,"move_x":0,"move_y":0,"aim":70}]}`, ErrMalformed},
		{"json float32 overflow", `{"kind":"input","inputs":[{"seq":1,"tick":1,"move_x":1e300,"move_y":0,"aim":0}]}`, ErrMalformed},
		{"json seq order", `{"kind":"input","inputs":[{"seq":2},{"seq":1}]}`, ErrMalformed},
		{"json oversized", `{"kind":"ping","ping_id":1` + strings.Repeat(" ", MaxClientJSONFrameSize) + `}`, ErrFrameTooLarge},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var f ClientFrame
			if err := DecodeClientFrame([]byte(tc.data), &f); !errors.Is(err, tc.want) {
				t.Fatalf("DecodeClientFrame = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestServerFrameRoundTrip(t *testing.T) {
	cfg := arena.Config{TickRate: 60, ScoreLimit: 40, TimeLimit: 7 * time.Minute}.WithDefaults()
	open := arena.Config{Obstacles: []arena.Rect{}}.WithDefaults()
	m := newLiveMatch(t, 6, 11)
	for range 100 {
		m.step()
	}
	snap := m.capture()
	snap.AckSeq = 77
	cases := []struct {
		name string
		f    ServerFrame
	}{
		{"welcome", ServerFrame{Kind: FrameWelcome, Welcome: Welcome{Version: ProtocolVersion, Player: 5, Tick: 123, Config: cfg}}},
		{"welcome open arena", ServerFrame{Kind: FrameWelcome, Welcome: Welcome{Version: ProtocolVersion, Player: 63, Config: open}}},
		{"events", ServerFrame{Kind: FrameEvents, Events: []arena.Event{
			{Kind: arena.EventKill, Tick: 9, Player: 1, Other: 2},
			{Kind: arena.EventMatchEnd, Tick: 10, Player: 1, Other: arena.NoPlayer, Reason: arena.EndScoreLimit},
		}}},
		{"kick", ServerFrame{Kind: FrameKick, Kick: Kick{Reason: KickViolations, Detail: "speed hack ✗"}}},
		{"pong", ServerFrame{Kind: FramePong, Pong: Pong{ID: 3, ClientTime: 1 << 60, ServerTick: 99}}},
		{"full snapshot", ServerFrame{Kind: FrameSnapshot, Snapshot: snap}},
	}
	for _, tc := range cases {
		for _, enc := range []Encoding{Binary, JSON} {
			t.Run(tc.name+"/"+[]string{"binary", "json"}[enc], func(t *testing.T) {
				data, err := AppendServerFrame(nil, enc, &tc.f)
				if err != nil {
					t.Fatalf("encode: %v", err)
				}
				cc := NewClientConn()
				var got ServerFrame
				if err := cc.DecodeServerFrame(data, &got); err != nil {
					t.Fatalf("decode: %v", err)
				}
				if got.Kind != tc.f.Kind {
					t.Fatalf("kind %v, want %v", got.Kind, tc.f.Kind)
				}
				switch tc.f.Kind {
				case FrameWelcome:
					gw, ww := got.Welcome, tc.f.Welcome
					if gw.Version != ww.Version || gw.Player != ww.Player || gw.Tick != ww.Tick {
						t.Fatalf("welcome %+v", gw)
					}
					// Everything a client predicts with survives; server-only
					// settings come back as defaults.
					wc := ww.Config
					wc.Seed = 0
					wc.MaxInputLead, wc.MaxInputAge, wc.InputBurst, wc.KickThreshold = 0, 0, 0, 0
					wc.ViolationForgiveness, wc.InputGateBudget, wc.InputGateWindow = 0, 0, 0
					if !reflect.DeepEqual(gw.Config.WithDefaults(), wc.WithDefaults()) {
						t.Fatalf("config\n got %+v\nwant %+v", gw.Config, wc)
					}
				case FrameEvents:
					if !reflect.DeepEqual(got.Events, tc.f.Events) {
						t.Fatalf("events %+v", got.Events)
					}
				case FrameKick:
					if got.Kick != tc.f.Kick {
						t.Fatalf("kick %+v", got.Kick)
					}
				case FramePong:
					if got.Pong != tc.f.Pong {
						t.Fatalf("pong %+v", got.Pong)
					}
				case FrameSnapshot:
					if !snapshotsEqual(got.Snapshot, snap) {
						t.Fatalf("snapshot mismatch")
					}
					if cc.Latest() != got.Snapshot {
						t.Fatal("Latest does not return the decoded snapshot")
					}
				}
			})
		}
	}
}

func TestServerFrameRejects(t *testing.T) {
	cases := []struct {
		name string
		data string
	}{
		{"client kind", "\x01"},
		{"welcome bad player", "\x10\x01\x40"},
		{"welcome NaN width", "\x10\x01\x00\x00\x1e\x40" + strings.Repeat("\xff", 16)},
		{"events bad kind", "\x12\x01\x09\x00\x00\x00\x00"},
		{"events bad player", "\x12\x01\x03\x00\x50\x00\x00"},
		{"events too many", "\x12\x81\x02"},
		{"kick bad reason", "\x13\x00\x00"},
		{"kick bad utf8", "\x13\x01\x01\xff"},
		{"kick too long", "\x13\x01\xc9\x01"},
		{"pong trailing", "\x14\x00\x00\x00\x00"},
		{"json kick bad reason", `{"kind":"kick","kick":{"reason":"bored","detail":""}}`},
		{"json welcome bad config", `{"kind":"welcome","welcome":{"version":1,"player":0,"tick":0,"config":{"tick_rate":500}}}`},
		{"json snapshot unsorted", `{"kind":"snapshot","snapshot":{"tick":1,"players":[{"id":2},{"id":1}]}}`},
		{"json snapshot null", `{"kind":"snapshot","snapshot":null}`},
		{"json event bad reason", `{"kind":"events","events":[{"kind":"kill","reason":"nope"}]}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var f ServerFrame
			if err := NewClientConn().DecodeServerFrame([]byte(tc.data), &f); !errors.Is(err, ErrMalformed) {
				t.Fatalf("DecodeServerFrame = %v, want ErrMalformed", err)
			}
		})
	}
}
