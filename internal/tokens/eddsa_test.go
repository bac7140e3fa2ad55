package tokens

import (
	"crypto/ed25519"
	"crypto/rand"
	"math/big"
	"testing"

	"github.com/golang-jwt/jwt/v5"
)

// TestEd25519MatchesStdlib holds the package's Ed25519 to crypto/ed25519:
// byte-identical signatures, and the same verdict on good, tampered,
// non-canonical and malformed input.
func TestEd25519MatchesStdlib(t *testing.T) {
	// l is the order of the Ed25519 base point; S+l is the non-canonical
	// spelling of a valid S that RFC 8032 requires verifiers to refuse.
	l, _ := new(big.Int).SetString("7237005577332262213973186563042994240857116359379907606001950938285454250989", 10)
	for i := range 64 {
		pub, priv, err := ed25519.GenerateKey(nil)
		if err != nil {
			t.Fatal(err)
		}
		msg := make([]byte, i*7)
		_, _ = rand.Read(msg)
		want := ed25519.Sign(priv, msg)
		got := sign(priv, msg)
		if string(got) != string(want) {
			t.Fatalf("signature %d differs from crypto/ed25519", i)
		}
		flipped := append([]byte(nil), got...)
		flipped[i%len(flipped)] ^= 1 << (i % 8)
		nonCanonical := append([]byte(nil), got...)
		s := new(big.Int).SetBytes(reverse(got[32:]))
		copy(nonCanonical[32:], reverse(s.Add(s, l).FillBytes(make([]byte, 32))))
		otherMsg := append([]byte("x"), msg...)
		for _, tc := range []struct {
			name     string
			pub      ed25519.PublicKey
			msg, sig []byte
		}{
			{"good", pub, msg, got},
			{"flipped bit", pub, msg, flipped},
			{"other message", pub, otherMsg, got},
			{"non-canonical S", pub, msg, nonCanonical},
			{"short signature", pub, msg, got[:63]},
			{"short key", pub[:31], msg, got},
		} {
			stdOK := len(tc.pub) == ed25519.PublicKeySize && ed25519.Verify(tc.pub, tc.msg, tc.sig)
			if ok := verify(tc.pub, tc.msg, tc.sig); ok != stdOK {
				t.Fatalf("key %d, %s: verify = %v, crypto/ed25519 says %v", i, tc.name, ok, stdOK)
			}
			if tc.name == "good" && !stdOK {
				t.Fatalf("key %d: a good signature does not verify", i)
			}
		}
	}
}

func reverse(b []byte) []byte {
	r := make([]byte, len(b))
	for i := range b {
		r[len(b)-1-i] = b[i]
	}
	return r
}

// TestEdDSAMethodRegistered checks that tokens are parsed with this
// package's method and that it refuses keys of the wrong type.
func TestEdDSAMethodRegistered(t *testing.T) {
	m := jwt.GetSigningMethod("EdDSA")
	if _, ok := m.(eddsaMethod); !ok {
		t.Fatalf("EdDSA resolves to %T", m)
	}
	pub, priv, _ := ed25519.GenerateKey(nil)
	sig, err := m.Sign("a.b", priv)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Verify("a.b", sig, pub); err != nil {
		t.Fatalf("Verify: %v", err)
	}
	for _, key := range []any{priv, []byte(pub), "key", nil} {
		if err := m.Verify("a.b", sig, key); err == nil {
			t.Errorf("Verify with a %T key succeeded", key)
		}
	}
	if err := m.Verify("a.b", sig, pub[:16]); err == nil {
		t.Error("Verify with a short key succeeded")
	}
	if _, err := m.Sign("a.b", pub); err == nil {
		t.Error("Sign with a public key succeeded")
	}
}
