package server

import (
	"encoding/json"
	"testing"

	"github.com/atollgg/atoll/internal/tokens"
)

// FuzzDecodeHello: the first frame of every connection comes from anyone
// on the internet. The decoder must never panic, and whatever it accepts
// must be a bounded, non-empty token that the hello it came from carries.
func FuzzDecodeHello(f *testing.F) {
	for _, s := range []string{
		`{"token":"eyJhbGciOiJFZERTQSJ9.e30.c2ln"}`,
		`{"token":""}`,
		`{"token":"a","extra":1}`,
		`{"token":"a"}{"token":"b"}`,
		`{"token":1}`,
		`null`,
		`"token"`,
		"\x00\xff",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		tok, err := decodeHello(data)
		if err != nil {
			return
		}
		if tok == "" || len(tok) > tokens.MaxTokenLength || len(data) > maxHelloBytes {
			t.Fatalf("accepted token of %d bytes from a %d-byte hello", len(tok), len(data))
		}
		var h hello
		if err := json.Unmarshal(data, &h); err != nil || h.Token != tok {
			t.Fatalf("decoded %q but the frame says %q (%v)", tok, h.Token, err)
		}
	})
}

// FuzzDecodeTimedFrame: game frames are untrusted too.
func FuzzDecodeTimedFrame(f *testing.F) {
	for _, s := range []string{`{"type":"tap"}`, `{"type":"fire"}`, `{}`, `{"type":"tap","n":9}`, `[`, ``} {
		f.Add(false, []byte(s))
	}
	f.Add(true, []byte(`{"type":"tap"}`))
	f.Fuzz(func(t *testing.T, binary bool, data []byte) {
		typ, err := decodeTimedFrame(binary, data)
		if err != nil {
			return
		}
		if typ != "tap" || binary || len(data) > maxFrameBytes {
			t.Fatalf("accepted %q (binary %v, %d bytes)", typ, binary, len(data))
		}
	})
}
