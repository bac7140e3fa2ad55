// Package beacon owns the wire format of the relays' UDP ping beacon, shared
// by the relay that answers and the clients that probe.
//
// Every datagram is PacketSize bytes or more, big-endian:
//
//	offset size  request                 reply
//	0      4     magic "ATLB"            magic "ATLB"
//	4      1     version (1)             version (1)
//	5      1     kind 1 (request)        kind 2 (reply)
//	6      1     0                       load hint (0-100, % of capacity)
//	7      1     0                       0
//	8      8     nonce                   the request's nonce
//	16     8     client timestamp        the request's client timestamp
//	24     1     0                       length R of the relay id
//	25     1     0                       length G of the region id
//	26     R+G   zero padding            relay id, region id, zero padding
//
// A reply has exactly the size of PacketSize, so it is never larger than the
// request it answers (requests shorter than PacketSize are dropped): the
// beacon cannot be used to amplify a flood. The client timestamp is opaque
// to the relay; clients put their own clock in it to measure the round trip
// without keeping state per probe.
package beacon

import (
	"encoding/binary"
	"errors"
)

// Protocol constants.
const (
	// Magic starts every datagram, so stray traffic is told apart cheaply.
	Magic = "ATLB"
	// Version is the only protocol version this package speaks.
	Version = 1
	// PacketSize is the size of every reply and the least size of a
	// request: a 26-byte header and room for two 63-byte ids, rounded up.
	PacketSize = 160
	// MaxIDLength bounds each id a reply carries (topology ids are at most
	// 63 bytes).
	MaxIDLength = 63

	kindRequest = 1
	kindReply   = 2
	headerSize  = 26
)

// Errors of the decoders; the beacon counts drops by them.
var (
	ErrShort   = errors.New("beacon: packet shorter than PacketSize")
	ErrMagic   = errors.New("beacon: bad magic")
	ErrVersion = errors.New("beacon: unsupported version")
	ErrKind    = errors.New("beacon: wrong packet kind")
	ErrIDs     = errors.New("beacon: bad id lengths")
)

// Request is a client's probe.
type Request struct {
	Nonce     uint64
	Timestamp uint64
}

// Reply is a relay's answer to a Request.
type Reply struct {
	Nonce     uint64
	Timestamp uint64
	Load      uint8
	RelayID   string
	RegionID  string
}

// AppendRequest appends a PacketSize-byte request to dst.
func AppendRequest(dst []byte, r Request) []byte {
	var p [PacketSize]byte
	copy(p[:4], Magic)
	p[4], p[5] = Version, kindRequest
	binary.BigEndian.PutUint64(p[8:], r.Nonce)
	binary.BigEndian.PutUint64(p[16:], r.Timestamp)
	return append(dst, p[:]...)
}

// ParseRequest decodes a request. Extra bytes after PacketSize are ignored
// (a later version may pad more), never echoed.
func ParseRequest(b []byte) (Request, error) {
	if err := checkHeader(b, kindRequest); err != nil {
		return Request{}, err
	}
	return Request{Nonce: binary.BigEndian.Uint64(b[8:]), Timestamp: binary.BigEndian.Uint64(b[16:])}, nil
}

// PutReply writes the reply to req into dst[:PacketSize] and returns
// PacketSize. dst may be the request's own buffer: the reply is built in
// place. Ids longer than MaxIDLength are cut; callers validate them first.
func PutReply(dst []byte, req Request, load uint8, relayID, regionID string) int {
	_ = dst[PacketSize-1]
	copy(dst[:4], Magic)
	dst[4], dst[5], dst[6], dst[7] = Version, kindReply, load, 0
	binary.BigEndian.PutUint64(dst[8:], req.Nonce)
	binary.BigEndian.PutUint64(dst[16:], req.Timestamp)
	relayID, regionID = cut(relayID), cut(regionID)
	dst[24], dst[25] = byte(len(relayID)), byte(len(regionID))
	n := headerSize + copy(dst[headerSize:], relayID)
	n += copy(dst[n:], regionID)
	clear(dst[n:PacketSize])
	return PacketSize
}

// ParseReply decodes a reply.
func ParseReply(b []byte) (Reply, error) {
	if err := checkHeader(b, kindReply); err != nil {
		return Reply{}, err
	}
	rl, gl := int(b[24]), int(b[25])
	if rl > MaxIDLength || gl > MaxIDLength {
		return Reply{}, ErrIDs
	}
	return Reply{
		Nonce:     binary.BigEndian.Uint64(b[8:]),
		Timestamp: binary.BigEndian.Uint64(b[16:]),
		Load:      b[6],
		RelayID:   string(b[headerSize : headerSize+rl]),
		RegionID:  string(b[headerSize+rl : headerSize+rl+gl]),
	}, nil
}

func checkHeader(b []byte, kind byte) error {
	switch {
	case len(b) < PacketSize:
		return ErrShort
	case string(b[:4]) != Magic:
		return ErrMagic
	case b[4] != Version:
		return ErrVersion
	case b[5] != kind:
		return ErrKind
	}
	return nil
}

func cut(id string) string {
	if len(id) > MaxIDLength {
		return id[:MaxIDLength]
	}
	return id
}
