package password

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func TestEncodeDecodeRoundTrip(t *testing.T) {
	in := phcHash{
		params: Params{Memory: 19456, Iterations: 2, Parallelism: 1, SaltLen: 16, KeyLen: 32},
		salt:   bytes.Repeat([]byte{0xa5}, 16),
		key:    bytes.Repeat([]byte{0x5a}, 32),
	}
	enc := in.encode()
	if !strings.HasPrefix(enc, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("encode() = %q, want PHC argon2id prefix", enc)
	}
	if strings.Contains(enc, "=$") || strings.HasSuffix(enc, "=") {
		t.Fatalf("encode() = %q, want unpadded base64", enc)
	}
	out, err := decode(enc)
	if err != nil {
		t.Fatalf("decode(encode()) = %v", err)
	}
	if out.params != in.params || !bytes.Equal(out.salt, in.salt) || !bytes.Equal(out.key, in.key) {
		t.Fatalf("decode(encode(%+v)) = %+v", in, out)
	}
}

func TestDecodeRejects(t *testing.T) {
	const salt = "c29tZXNhbHRzb21lc2FsdA"                     // 16 bytes
	const key = "CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc" // 32 bytes
	tests := []struct{ name, encoded string }{
		{"empty", ""},
		{"not phc", "hunter2"},
		{"argon2i", "$argon2i$v=19$m=64,t=1,p=1$" + salt + "$" + key},
		{"old version", "$argon2id$v=16$m=64,t=1,p=1$" + salt + "$" + key},
		{"no version", "$argon2id$m=64,t=1,p=1$" + salt + "$" + key},
		{"params out of order", "$argon2id$v=19$t=1,m=64,p=1$" + salt + "$" + key},
		{"extra param", "$argon2id$v=19$m=64,t=1,p=1,keyid=x$" + salt + "$" + key},
		{"signed param", "$argon2id$v=19$m=+64,t=1,p=1$" + salt + "$" + key},
		{"absurd memory", "$argon2id$v=19$m=4294967295,t=1,p=1$" + salt + "$" + key},
		{"memory overflows uint32", "$argon2id$v=19$m=4294967296,t=1,p=1$" + salt + "$" + key},
		{"absurd iterations", "$argon2id$v=19$m=64,t=100000,p=1$" + salt + "$" + key},
		{"absurd parallelism", "$argon2id$v=19$m=4096,t=1,p=255$" + salt + "$" + key},
		{"parallelism overflows uint8", "$argon2id$v=19$m=4096,t=1,p=256$" + salt + "$" + key},
		{"zero iterations", "$argon2id$v=19$m=64,t=0,p=1$" + salt + "$" + key},
		{"salt too short", "$argon2id$v=19$m=64,t=1,p=1$c2FsdA$" + key},
		{"key too short", "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$c2FsdA"},
		{"padded salt", "$argon2id$v=19$m=64,t=1,p=1$" + salt + "==$" + key},
		{"url base64 salt", "$argon2id$v=19$m=64,t=1,p=1$c29tZXNhbHRzb21lc2FsdA-_$" + key},
		{"non-canonical base64", "$argon2id$v=19$m=64,t=1,p=1$" + salt[:len(salt)-1] + "B$" + key},
		{"trailing field", "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$" + key + "$"},
		{"too long", "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$" + strings.Repeat("A", maxEncodedLen)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := decode(tt.encoded); !errors.Is(err, ErrMalformedHash) {
				t.Fatalf("decode(%q) = %v, want ErrMalformedHash", tt.encoded, err)
			}
		})
	}
}

func FuzzDecode(f *testing.F) {
	f.Add("$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc")
	f.Add("$argon2id$v=19$m=64,t=3,p=2$c2FsdHNhbHRzYWx0c2FsdA$TLiTodXQLo9lFPlXmDDIkA")
	f.Add("$argon2id$v=19$m=,t=,p=$$")
	f.Add("$$$$$")
	f.Fuzz(func(t *testing.T, encoded string) {
		h, err := decode(encoded)
		if err != nil {
			return
		}
		// Whatever decodes must be within bounds and re-encode canonically.
		if err := h.params.validate(minStoredSaltLen); err != nil {
			t.Fatalf("decode(%q) accepted params %+v: %v", encoded, h.params, err)
		}
		if again, err := decode(h.encode()); err != nil || again.params != h.params {
			t.Fatalf("re-decode of %q: %+v, %v", h.encode(), again.params, err)
		}
	})
}
