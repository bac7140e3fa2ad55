package netcode

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/atollgg/atoll/gameserver/arena"
)

// Ping carries a client-chosen ID and timestamp that the server echoes in a
// Pong, so the client measures round-trip time on its own clock.
type Ping struct {
	ID         uint32
	ClientTime uint64
}

// ClientFrame is any client→server frame; Kind says which fields matter.
type ClientFrame struct {
	Kind FrameKind
	// Inputs (FrameInput): oldest first, Seq strictly increasing. A client
	// resends its unacknowledged inputs in every frame so a lost frame costs
	// nothing; the World drops the duplicates.
	Inputs []arena.Input
	// AckTick (FrameAck, and FrameInput when HasAck) acknowledges the newest
	// snapshot the client reconstructed, making it the delta baseline.
	AckTick uint32
	HasAck  bool
	// Ping (FramePing).
	Ping Ping
}

const (
	inputFlagAck  = 1 << 0
	inputFlagFire = 1 << 0
)

// AppendClientFrame encodes f onto dst. Inputs are quantized on the way, so
// what the server decodes equals Input.Quantized.
func AppendClientFrame(dst []byte, enc Encoding, f *ClientFrame) ([]byte, error) {
	if enc == JSON {
		return appendClientJSON(dst, f)
	}
	start := len(dst)
	switch f.Kind {
	case FrameInput:
		if n := len(f.Inputs); n == 0 || n > MaxInputsPerFrame {
			return dst, fmt.Errorf("encode input frame: %d inputs, want 1..%d", n, MaxInputsPerFrame)
		}
		dst = append(dst, byte(FrameInput))
		if f.HasAck {
			dst = append(dst, inputFlagAck)
			dst = binary.AppendUvarint(dst, uint64(f.AckTick))
		} else {
			dst = append(dst, 0)
		}
		dst = binary.AppendUvarint(dst, uint64(len(f.Inputs)))
		var prev arena.Input
		for i, in := range f.Inputs {
			if in.Seq == 0 || (i > 0 && in.Seq <= prev.Seq) {
				return dst[:start], fmt.Errorf("encode input frame: input %d has seq %d, want positive and increasing", i, in.Seq)
			}
			if i == 0 {
				dst = binary.AppendUvarint(dst, uint64(in.Seq))
				dst = binary.AppendUvarint(dst, uint64(in.Tick))
			} else {
				dst = binary.AppendUvarint(dst, uint64(in.Seq-prev.Seq))
				dst = binary.AppendVarint(dst, int64(in.Tick)-int64(prev.Tick))
			}
			dst = append(dst, byte(arena.QuantizeMove(in.MoveX)), byte(arena.QuantizeMove(in.MoveY)))
			dst = binary.LittleEndian.AppendUint16(dst, uint16(arena.AngleFromRadians(float64(in.Aim))))
			var flags byte
			if in.Fire {
				flags |= inputFlagFire
			}
			dst = append(dst, flags)
			prev = in
		}
	case FrameAck:
		dst = append(dst, byte(FrameAck))
		dst = binary.AppendUvarint(dst, uint64(f.AckTick))
	case FramePing:
		dst = append(dst, byte(FramePing))
		dst = binary.AppendUvarint(dst, uint64(f.Ping.ID))
		dst = binary.AppendUvarint(dst, f.Ping.ClientTime)
	default:
		return dst, fmt.Errorf("encode client frame: %v is not a client frame", f.Kind)
	}
	if len(dst)-start > MaxClientFrameSize {
		return dst[:start], fmt.Errorf("encode client frame: %w", ErrFrameTooLarge)
	}
	return dst, nil
}

// DecodeClientFrame decodes a binary or JSON client frame into dst, reusing
// dst.Inputs' memory. On error dst is unspecified.
func DecodeClientFrame(data []byte, dst *ClientFrame) error {
	if isJSON(data) {
		return decodeClientJSON(data, dst)
	}
	if len(data) > MaxClientFrameSize {
		return fmt.Errorf("decode client frame: %w: %d bytes", ErrFrameTooLarge, len(data))
	}
	*dst = ClientFrame{Inputs: dst.Inputs[:0]}
	r := reader{b: data}
	dst.Kind = FrameKind(r.byte())
	switch dst.Kind {
	case FrameInput:
		flags := r.byte()
		if flags&^inputFlagAck != 0 {
			r.fail("unknown input frame flags %#x", flags)
		}
		if flags&inputFlagAck != 0 {
			dst.HasAck = true
			dst.AckTick = r.u32("ack tick")
		}
		n := r.count("inputs", MaxInputsPerFrame)
		if n == 0 && r.err == nil {
			r.fail("empty input frame")
		}
		var prev arena.Input
		for i := 0; i < n && r.err == nil; i++ {
			var in arena.Input
			if i == 0 {
				in.Seq = r.u32("seq")
				in.Tick = r.u32("tick")
				if in.Seq == 0 {
					r.fail("seq 0")
				}
			} else {
				ds := r.uvarint()
				dt := r.varint()
				seq, tick := uint64(prev.Seq)+ds, int64(prev.Tick)+dt
				if ds == 0 || seq > math.MaxUint32 || tick < 0 || tick > math.MaxUint32 {
					r.fail("input %d: seq/tick delta out of range", i)
				}
				in.Seq, in.Tick = uint32(seq), uint32(tick)
			}
			mx, my := int8(r.byte()), int8(r.byte())
			if mx == math.MinInt8 || my == math.MinInt8 {
				r.fail("input %d: movement out of range", i)
			}
			in.MoveX, in.MoveY = arena.DequantizeMove(mx), arena.DequantizeMove(my)
			in.Aim = float32(arena.Angle(r.u16()).Radians())
			flags := r.byte()
			if flags&^inputFlagFire != 0 {
				r.fail("input %d: unknown flags %#x", i, flags)
			}
			in.Fire = flags&inputFlagFire != 0
			dst.Inputs = append(dst.Inputs, in)
			prev = in
		}
	case FrameAck:
		dst.AckTick = r.u32("ack tick")
		dst.HasAck = true
	case FramePing:
		dst.Ping.ID = r.u32("ping id")
		dst.Ping.ClientTime = r.uvarint()
	default:
		r.fail("%v is not a client frame", dst.Kind)
	}
	if err := r.finish(); err != nil {
		return fmt.Errorf("decode client frame: %w", err)
	}
	return nil
}
