package netcode

import (
	"errors"
	"reflect"
	"testing"

	"github.com/atollgg/atoll/gameserver/arena"
)

func FuzzDecodeClientFrame(f *testing.F) {
	// Seeds: real encodings of every client frame kind, both encodings.
	m := newLiveMatch(f, 2, 21)
	for range 40 {
		m.step()
	}
	frames := []ClientFrame{
		{Kind: FrameInput, Inputs: sampleInputs(1)},
		{Kind: FrameInput, Inputs: sampleInputs(8), AckTick: m.w.Tick(), HasAck: true},
		{Kind: FrameInput, Inputs: sampleInputs(MaxInputsPerFrame)},
		{Kind: FrameAck, AckTick: m.w.Tick(), HasAck: true},
		{Kind: FramePing, Ping: Ping{ID: 4, ClientTime: 1_700_000_000_000}},
	}
	for _, fr := range frames {
		for _, enc := range []Encoding{Binary, JSON} {
			data, err := AppendClientFrame(nil, enc, &fr)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(data)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var fr ClientFrame
		if err := DecodeClientFrame(data, &fr); err != nil {
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrFrameTooLarge) {
				t.Fatalf("unclassified error: %v", err)
			}
			return
		}
		if len(fr.Inputs) > MaxInputsPerFrame {
			t.Fatalf("%d inputs decoded", len(fr.Inputs))
		}
		for i, in := range fr.Inputs {
			if in.Seq == 0 || (i > 0 && in.Seq <= fr.Inputs[i-1].Seq) || in.Quantized() != in {
				t.Fatalf("input %d invalid: %+v", i, in)
			}
		}
		// What decodes re-encodes to something that decodes identically.
		again, err := AppendClientFrame(nil, Binary, &fr)
		if err != nil {
			t.Fatalf("re-encode: %v", err)
		}
		var fr2 ClientFrame
		if err := DecodeClientFrame(again, &fr2); err != nil {
			t.Fatalf("re-decode: %v", err)
		}
		if len(fr.Inputs) == 0 {
			fr.Inputs, fr2.Inputs = nil, nil
		}
		if !reflect.DeepEqual(fr, fr2) {
			t.Fatalf("re-decode differs:\n%+v\n%+v", fr, fr2)
		}
	})
}

// fuzzBaseline is the baseline every FuzzDecodeSnapshot input is decoded
// against, plus real encodings around it for the seed corpus.
func fuzzBaseline(f *testing.F) (*Snapshot, [][]byte) {
	m := newLiveMatch(f, 12, 31)
	for range 200 {
		m.step()
	}
	base := m.capture()
	var seeds [][]byte
	add := func(data []byte, err error) {
		if err != nil {
			f.Fatal(err)
		}
		seeds = append(seeds, data)
	}
	add(AppendSnapshot(nil, base, nil, 17))
	for range 5 {
		m.step()
		cur := m.capture()
		add(AppendSnapshot(nil, cur, base, 18))
		add(AppendSnapshot(nil, cur, nil, 19))
	}
	add(AppendServerFrame(nil, JSON, &ServerFrame{Kind: FrameSnapshot, Snapshot: base}))
	add(AppendServerFrame(nil, Binary, &ServerFrame{Kind: FrameWelcome, Welcome: Welcome{Version: ProtocolVersion, Player: 3, Config: m.w.Config()}}))
	add(AppendServerFrame(nil, Binary, &ServerFrame{Kind: FrameEvents, Events: []arena.Event{{Kind: arena.EventKill, Tick: 3, Player: 1, Other: 2}}}))
	add(AppendServerFrame(nil, Binary, &ServerFrame{Kind: FrameKick, Kick: Kick{Reason: KickIdle, Detail: "idle"}}))
	return base, seeds
}

func FuzzDecodeSnapshot(f *testing.F) {
	base, seeds := fuzzBaseline(f)
	for _, s := range seeds {
		f.Add(s)
	}
	baseFrame, err := AppendSnapshot(nil, base, nil, 0)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var dst Snapshot
		if err := DecodeSnapshot(data, base, &dst); err == nil {
			if err := dst.validate(); err != nil {
				t.Fatalf("decoded an invalid snapshot: %v", err)
			}
			var b *Snapshot
			if h, err := PeekSnapshot(data); err == nil && h.HasBase {
				b = base
			}
			again, err := AppendSnapshot(nil, &dst, b, dst.AckSeq)
			if err != nil {
				t.Fatalf("re-encode: %v", err)
			}
			var dst2 Snapshot
			if err := DecodeSnapshot(again, b, &dst2); err != nil {
				t.Fatalf("re-decode: %v", err)
			}
			if !snapshotsEqual(&dst, &dst2) {
				t.Fatal("re-decode differs")
			}
		}
		// The client path handles every server frame kind, with the
		// baseline held in its ring.
		cc := NewClientConn()
		var fr ServerFrame
		if err := cc.DecodeServerFrame(baseFrame, &fr); err != nil {
			t.Fatalf("priming: %v", err)
		}
		if err := cc.DecodeServerFrame(data, &fr); err == nil && fr.Kind == FrameSnapshot {
			if err := fr.Snapshot.validate(); err != nil {
				t.Fatalf("client conn produced an invalid snapshot: %v", err)
			}
		}
	})
}
