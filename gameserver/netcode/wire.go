package netcode

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// Decoding errors. Every decode error wraps one of these.
var (
	// ErrMalformed: the bytes are not a valid frame.
	ErrMalformed = errors.New("netcode: malformed frame")
	// ErrFrameTooLarge: the frame exceeds its size limit.
	ErrFrameTooLarge = errors.New("netcode: frame too large")
	// ErrUnknownBaseline: a delta snapshot refers to a baseline the decoder
	// does not hold; the client keeps acking and the server falls back.
	ErrUnknownBaseline = errors.New("netcode: unknown snapshot baseline")
)

// FrameKind is the first byte of a binary frame.
type FrameKind uint8

// Client→server kinds are below 0x10, server→client kinds from 0x10, so a
// frame sent the wrong way fails to decode.
const (
	FrameInput FrameKind = 0x01
	FrameAck   FrameKind = 0x02
	FramePing  FrameKind = 0x03

	FrameWelcome  FrameKind = 0x10
	FrameSnapshot FrameKind = 0x11
	FrameEvents   FrameKind = 0x12
	FrameKick     FrameKind = 0x13
	FramePong     FrameKind = 0x14
)

func (k FrameKind) String() string {
	switch k {
	case FrameInput:
		return "input"
	case FrameAck:
		return "ack"
	case FramePing:
		return "ping"
	case FrameWelcome:
		return "welcome"
	case FrameSnapshot:
		return "snapshot"
	case FrameEvents:
		return "events"
	case FrameKick:
		return "kick"
	case FramePong:
		return "pong"
	}
	return fmt.Sprintf("FrameKind(%#x)", uint8(k))
}

// Encoding selects binary frames or the JSON debug mode.
type Encoding uint8

const (
	Binary Encoding = iota
	JSON
)

func (e Encoding) String() string {
	if e == JSON {
		return "json"
	}
	return "binary"
}

// isJSON reports whether a frame is in the JSON debug mode; no binary frame
// kind is '{'.
func isJSON(data []byte) bool { return len(data) > 0 && data[0] == '{' }

// reader decodes bounded binary fields; the first failure sticks and every
// later read returns zero, so decoders check r.err once per section.
type reader struct {
	b   []byte
	err error
}

func (r *reader) fail(format string, args ...any) {
	if r.err == nil {
		r.err = fmt.Errorf("%w: %s", ErrMalformed, fmt.Sprintf(format, args...))
	}
	r.b = nil
}

func (r *reader) byte() byte {
	if len(r.b) < 1 {
		r.fail("truncated")
		return 0
	}
	v := r.b[0]
	r.b = r.b[1:]
	return v
}

func (r *reader) uvarint() uint64 {
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.fail("bad uvarint")
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) varint() int64 {
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.fail("bad varint")
		return 0
	}
	r.b = r.b[n:]
	return v
}

// u32 reads a uvarint that must fit 32 bits.
func (r *reader) u32(what string) uint32 {
	v := r.uvarint()
	if v > math.MaxUint32 {
		r.fail("%s %d overflows 32 bits", what, v)
		return 0
	}
	return uint32(v)
}

// count reads a uvarint count bounded by max.
func (r *reader) count(what string, max int) int {
	v := r.uvarint()
	if v > uint64(max) {
		r.fail("%d %s exceed the limit of %d", v, what, max)
		return 0
	}
	return int(v)
}

func (r *reader) u16() uint16 {
	if len(r.b) < 2 {
		r.fail("truncated")
		return 0
	}
	v := binary.LittleEndian.Uint16(r.b)
	r.b = r.b[2:]
	return v
}

func (r *reader) f64() float64 {
	if len(r.b) < 8 {
		r.fail("truncated")
		return 0
	}
	v := math.Float64frombits(binary.LittleEndian.Uint64(r.b))
	r.b = r.b[8:]
	return v
}

func (r *reader) bytes(n int) []byte {
	if n < 0 || len(r.b) < n {
		r.fail("truncated")
		return nil
	}
	v := r.b[:n]
	r.b = r.b[n:]
	return v
}

// finish reports the sticky error, or trailing garbage.
func (r *reader) finish() error {
	if r.err != nil {
		return r.err
	}
	if len(r.b) != 0 {
		return fmt.Errorf("%w: %d trailing bytes", ErrMalformed, len(r.b))
	}
	return nil
}

func appendF64(b []byte, v float64) []byte {
	return binary.LittleEndian.AppendUint64(b, math.Float64bits(v))
}
