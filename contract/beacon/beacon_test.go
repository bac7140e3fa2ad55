package beacon

import (
	"bytes"
	"errors"
	"testing"
)

func TestRoundTrip(t *testing.T) {
	req := Request{Nonce: 0xdeadbeef01, Timestamp: 1234567890}
	buf := AppendRequest(nil, req)
	if len(buf) != PacketSize {
		t.Fatalf("request is %d bytes", len(buf))
	}
	got, err := ParseRequest(buf)
	if err != nil || got != req {
		t.Fatalf("ParseRequest = %+v, %v", got, err)
	}
	n := PutReply(buf, got, 42, "eu-west-r1", "eu-west")
	rep, err := ParseReply(buf[:n])
	if err != nil {
		t.Fatal(err)
	}
	want := Reply{Nonce: req.Nonce, Timestamp: req.Timestamp, Load: 42, RelayID: "eu-west-r1", RegionID: "eu-west"}
	if rep != want || n > len(AppendRequest(nil, req)) {
		t.Fatalf("reply %+v (%d bytes), want %+v", rep, n, want)
	}
}

func TestDecodersRefuse(t *testing.T) {
	good := AppendRequest(nil, Request{Nonce: 1})
	mod := func(i int, b byte) []byte { c := bytes.Clone(good); c[i] = b; return c }
	reply := make([]byte, PacketSize)
	PutReply(reply, Request{}, 0, "r", "g")
	longIDs := bytes.Clone(reply)
	longIDs[24] = 64
	tests := []struct {
		name string
		data []byte
		want error
	}{
		{"empty", nil, ErrShort},
		{"short", good[:PacketSize-1], ErrShort},
		{"magic", mod(0, 'X'), ErrMagic},
		{"version", mod(4, 9), ErrVersion},
		{"reply as request", reply, ErrKind},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := ParseRequest(tt.data); !errors.Is(err, tt.want) {
				t.Fatalf("ParseRequest err = %v, want %v", err, tt.want)
			}
		})
	}
	if _, err := ParseReply(longIDs); !errors.Is(err, ErrIDs) {
		t.Fatalf("ParseReply of long ids = %v", err)
	}
	if _, err := ParseReply(good); !errors.Is(err, ErrKind) {
		t.Fatalf("ParseReply of a request = %v", err)
	}
}

func FuzzParseRequest(f *testing.F) {
	f.Add(AppendRequest(nil, Request{Nonce: 7, Timestamp: 9}))
	f.Add([]byte("ATLB"))
	f.Fuzz(func(t *testing.T, b []byte) {
		req, err := ParseRequest(b)
		if err != nil {
			return
		}
		// Whatever parses gets a reply no larger than itself.
		buf := bytes.Clone(b)
		if n := PutReply(buf, req, 0, "relay", "region"); n > len(b) {
			t.Fatalf("reply of %d bytes to a %d-byte request", n, len(b))
		}
	})
}

func FuzzParseReply(f *testing.F) {
	buf := make([]byte, PacketSize)
	PutReply(buf, Request{Nonce: 1}, 5, "eu-r1", "eu")
	f.Add(buf)
	f.Fuzz(func(t *testing.T, b []byte) {
		rep, err := ParseReply(b)
		if err != nil {
			return
		}
		if len(rep.RelayID) > MaxIDLength || len(rep.RegionID) > MaxIDLength {
			t.Fatalf("ids too long: %+v", rep)
		}
	})
}
