package pii

import (
	"bytes"
	"errors"
	"regexp"
	"strings"
	"testing"
)

var sealedPattern = regexp.MustCompile(`^v1\.k1\.[A-Za-z0-9_-]+$`)

func TestSealOpen(t *testing.T) {
	kr := mustParseKeys(t, "k1:"+EncodeKey(testKey(1)))
	aad := []byte("player:42")
	for _, plaintext := range [][]byte{
		[]byte("sea.dog@example.com"),
		{},
		bytes.Repeat([]byte{0}, MaxPlaintextLen),
	} {
		s, err := kr.Seal(plaintext, aad)
		if err != nil {
			t.Fatalf("Seal(%d bytes) = %v", len(plaintext), err)
		}
		if !sealedPattern.MatchString(s) {
			t.Fatalf("Seal() = %.40q, want v1.k1.<base64url>", s)
		}
		if len(plaintext) > 0 && strings.Contains(s, string(plaintext)) {
			t.Fatal("sealed value contains the plaintext")
		}
		got, err := kr.Open(s, aad)
		if err != nil || !bytes.Equal(got, plaintext) {
			t.Fatalf("Open(Seal(%d bytes)) = %d bytes, %v", len(plaintext), len(got), err)
		}
		if kr.NeedsReseal(s) {
			t.Fatal("NeedsReseal() = true under the active key")
		}
	}
	a, _ := kr.Seal([]byte("same"), aad)
	b, _ := kr.Seal([]byte("same"), aad)
	if a == b {
		t.Fatal("two seals of one value are equal: nonce is not random")
	}
	if _, err := kr.Seal(make([]byte, MaxPlaintextLen+1), aad); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("Seal(too large) = %v, want ErrTooLarge", err)
	}
}

func TestOpenRejects(t *testing.T) {
	kr := mustParseKeys(t, "k1:"+EncodeKey(testKey(1))+",k0:"+EncodeKey(testKey(0)))
	aad := []byte("player:42")
	s, err := kr.Seal([]byte("sea.dog@example.com"), aad)
	if err != nil {
		t.Fatal(err)
	}
	body := strings.TrimPrefix(s, "v1.k1.")
	raw, err := b64.DecodeString(body)
	if err != nil {
		t.Fatal(err)
	}
	shortened := "v1.k1." + b64.EncodeToString(raw[:len(raw)-1])
	tests := []struct {
		name   string
		sealed string
		aad    []byte
		want   error
		// alt is a second acceptable rejection: cutting one base64 character
		// leaves a decodable body whenever the dropped bits happen to be zero.
		alt error
	}{
		{"wrong aad", s, []byte("player:43"), ErrDecrypt, nil},
		{"no aad", s, nil, ErrDecrypt, nil},
		{"aad with extra byte", s, []byte("player:420"), ErrDecrypt, nil},
		{"other known key id", "v1.k0." + body, aad, ErrDecrypt, nil},
		{"unknown key id", "v1.k9." + body, aad, ErrUnknownKey, nil},
		{"truncated", s[:len(s)-1], aad, ErrMalformed, ErrDecrypt},
		{"one byte shorter", shortened, aad, ErrDecrypt, nil},
		{"empty", "", aad, ErrMalformed, nil},
		{"other version", "v2.k1." + body, aad, ErrMalformed, nil},
		{"no body", "v1.k1", aad, ErrMalformed, nil},
		{"empty body", "v1.k1.", aad, ErrMalformed, nil},
		{"bad key id", "v1.k$1." + body, aad, ErrMalformed, nil},
		{"std base64", "v1.k1." + strings.NewReplacer("-", "+", "_", "/").Replace(body) + "+/", aad, ErrMalformed, nil},
		{"padded", s + "==", aad, ErrMalformed, nil},
		{"too short", "v1.k1.AAAA", aad, ErrMalformed, nil},
		{"too long", "v1.k1." + strings.Repeat("A", maxSealedLen), aad, ErrMalformed, nil},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := kr.Open(tt.sealed, tt.aad)
			if !(errors.Is(err, tt.want) || (tt.alt != nil && errors.Is(err, tt.alt))) || got != nil {
				t.Fatalf("Open() = %q, %v; want nil, %v", got, err, tt.want)
			}
		})
	}
}

func TestOpenDetectsTampering(t *testing.T) {
	kr := mustParseKeys(t, "k1:"+EncodeKey(testKey(1)))
	s, err := kr.Seal([]byte("sea.dog@example.com"), []byte("player:42"))
	if err != nil {
		t.Fatal(err)
	}
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	// Replace every body character in turn (nonce, ciphertext and tag).
	for i := len("v1.k1."); i < len(s); i++ {
		b := []byte(s)
		b[i] = alphabet[(strings.IndexByte(alphabet, b[i])+1)%len(alphabet)]
		if got, err := kr.Open(string(b), []byte("player:42")); err == nil {
			t.Fatalf("tampered at %d opened as %q", i, got)
		}
	}
}

func TestRotation(t *testing.T) {
	old := mustParseKeys(t, "k1:"+EncodeKey(testKey(1)))
	aad := []byte("player:42")
	s1, err := old.Seal([]byte("sea.dog@example.com"), aad)
	if err != nil {
		t.Fatal(err)
	}

	// Rotate: k2 becomes active, k1 still opens.
	rotated := mustParseKeys(t, "k2:"+EncodeKey(testKey(2))+",k1:"+EncodeKey(testKey(1)))
	if got, err := rotated.Open(s1, aad); err != nil || string(got) != "sea.dog@example.com" {
		t.Fatalf("Open(k1 value) after rotation = %q, %v", got, err)
	}
	if !rotated.NeedsReseal(s1) {
		t.Fatal("NeedsReseal(k1 value) = false with k2 active")
	}
	s2, changed, err := rotated.Reseal(s1, aad)
	if err != nil || !changed || !strings.HasPrefix(s2, "v1.k2.") {
		t.Fatalf("Reseal() = %.10q, %v, %v; want v1.k2. value, true", s2, changed, err)
	}
	if rotated.NeedsReseal(s2) {
		t.Fatal("NeedsReseal(resealed) = true")
	}
	if again, changed, err := rotated.Reseal(s2, aad); err != nil || changed || again != s2 {
		t.Fatalf("Reseal(active) = %v, %v; want unchanged", changed, err)
	}
	if _, _, err := rotated.Reseal(s1, []byte("player:43")); !errors.Is(err, ErrDecrypt) {
		t.Fatalf("Reseal(wrong aad) = %v, want ErrDecrypt", err)
	}
	if _, _, err := rotated.Reseal("garbage", aad); !errors.Is(err, ErrMalformed) {
		t.Fatalf("Reseal(garbage) = %v, want ErrMalformed", err)
	}
	if rotated.NeedsReseal("garbage") {
		t.Fatal("NeedsReseal(garbage) = true")
	}

	// Once every row is resealed, k1 is retired.
	retired := mustParseKeys(t, "k2:"+EncodeKey(testKey(2)))
	if got, err := retired.Open(s2, aad); err != nil || string(got) != "sea.dog@example.com" {
		t.Fatalf("Open(k2 value) after retiring k1 = %q, %v", got, err)
	}
	if _, err := retired.Open(s1, aad); !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("Open(k1 value) after retiring k1 = %v, want ErrUnknownKey", err)
	}
}

func FuzzOpen(f *testing.F) {
	kr := mustParseKeys(f, "k1:"+EncodeKey(testKey(1))+",k0:"+EncodeKey(testKey(0)))
	s, err := kr.Seal([]byte("sea.dog@example.com"), []byte("player:42"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(s, []byte("player:42"))
	f.Add("v1.k0."+strings.TrimPrefix(s, "v1.k1."), []byte("player:42"))
	f.Add("v1..", []byte{})
	f.Add("v1.k1.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", []byte(nil))
	f.Fuzz(func(t *testing.T, sealed string, aad []byte) {
		got, err := kr.Open(sealed, aad)
		if err == nil {
			// Only sealed values of the seed authenticate (each fuzz
			// worker seals its own): forging another is breaking GCM.
			if string(aad) != "player:42" || string(got) != "sea.dog@example.com" {
				t.Fatalf("Open(%q, %q) = %q without error", sealed, aad, got)
			}
			return
		}
		if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrUnknownKey) && !errors.Is(err, ErrDecrypt) {
			t.Fatalf("Open() = %v, not one of the documented errors", err)
		}
		_ = kr.NeedsReseal(sealed)
	})
}
