package pii

import (
	"bytes"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
)

// testKey returns a deterministic 32-byte key distinct per seed.
func testKey(seed byte) []byte { return bytes.Repeat([]byte{seed}, KeySize) }

func mustParseKeys(t testing.TB, spec string) *Keyring {
	t.Helper()
	kr, err := ParseKeys(spec)
	if err != nil {
		t.Fatalf("ParseKeys() = %v", err)
	}
	return kr
}

func TestParseKeys(t *testing.T) {
	k1, k2 := EncodeKey(testKey(1)), EncodeKey(testKey(2))
	url := base64.RawURLEncoding.EncodeToString(bytes.Repeat([]byte{0xfb}, KeySize)) // has '-' and '_'
	tests := []struct {
		name   string
		spec   string
		active string
		ids    []string
	}{
		{"one key", "k1:" + k1, "k1", []string{"k1"}},
		{"first is active", "k2:" + k2 + ",k1:" + k1, "k2", []string{"k2", "k1"}},
		{"spaces", "  k2 : " + k2 + " ,\tk1:" + k1 + "\n", "", nil},
		{"url base64 unpadded", "u_1-x:" + url, "u_1-x", []string{"u_1-x"}},
		{"std base64 unpadded", "k1:" + strings.TrimRight(k1, "="), "k1", []string{"k1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kr, err := ParseKeys(tt.spec)
			if tt.name == "spaces" {
				// "k2 " is not a valid id: spaces are trimmed around
				// entries, not inside them.
				if !errors.Is(err, ErrInvalidKeys) {
					t.Fatalf("ParseKeys() = %v, want ErrInvalidKeys", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseKeys() = %v", err)
			}
			if kr.ActiveID() != tt.active {
				t.Errorf("ActiveID() = %q, want %q", kr.ActiveID(), tt.active)
			}
			if got := strings.Join(kr.IDs(), ","); got != strings.Join(tt.ids, ",") {
				t.Errorf("IDs() = %s, want %s", got, strings.Join(tt.ids, ","))
			}
		})
	}
}

func TestParseKeysRejects(t *testing.T) {
	k1 := EncodeKey(testKey(1))
	short := EncodeKey(testKey(3)[:16])
	tests := []struct {
		name, spec string
		secret     string // must not appear in the error
	}{
		{"empty", "", ""},
		{"blank", "  \n", ""},
		{"no colon", "k1" + k1, k1},
		{"empty id", ":" + k1, k1},
		{"dot in id", "k.1:" + k1, k1},
		{"long id", strings.Repeat("k", maxKeyIDLen+1) + ":" + k1, k1},
		{"duplicate id", "k1:" + k1 + ",k1:" + EncodeKey(testKey(2)), k1},
		{"empty entry", "k1:" + k1 + ",", k1},
		{"not base64", "k1:" + k1[:20] + "!!" + k1[22:], k1[:20]},
		{"mixed alphabets", "k1:" + "+" + k1[1:10] + "-" + k1[11:], k1[11:]},
		{"16-byte key", "k1:" + short, short},
		{"empty key", "k1:", ""},
		{"too many keys", strings.Repeat("k1:"+k1+",", maxKeys) + "k1:" + k1, k1},
		{"too long", strings.Repeat("x", maxSpecLen+1), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kr, err := ParseKeys(tt.spec)
			if !errors.Is(err, ErrInvalidKeys) || kr != nil {
				t.Fatalf("ParseKeys() = %v, %v; want nil, ErrInvalidKeys", kr, err)
			}
			if tt.secret != "" && strings.Contains(err.Error(), tt.secret) {
				t.Fatalf("error %q echoes key material", err)
			}
		})
	}
}

func FuzzParseKeys(f *testing.F) {
	f.Add("k2:" + EncodeKey(testKey(2)) + ",k1:" + EncodeKey(testKey(1)))
	f.Add("k1:")
	f.Add(":,:,")
	f.Add("k1:AAAA====")
	f.Fuzz(func(t *testing.T, spec string) {
		kr, err := ParseKeys(spec)
		if err != nil {
			if kr != nil {
				t.Fatal("non-nil keyring with an error")
			}
			return
		}
		// A keyring that parses must seal and open.
		s, err := kr.Seal([]byte("x"), nil)
		if err != nil {
			t.Fatalf("Seal() = %v", err)
		}
		if p, err := kr.Open(s, nil); err != nil || string(p) != "x" {
			t.Fatalf("Open(Seal()) = %q, %v", p, err)
		}
	})
}
