package tokens

import (
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
)

func TestKeyIDIsJWKThumbprint(t *testing.T) {
	ring := NewKeyRing()
	pub, err := ring.Key(ring.ActiveKID())
	if err != nil {
		t.Fatal(err)
	}
	jwk := jose.JSONWebKey{Key: pub}
	sum, err := jwk.Thumbprint(crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	if want := base64.RawURLEncoding.EncodeToString(sum); ring.ActiveKID() != want {
		t.Fatalf("kid = %q, want go-jose thumbprint %q", ring.ActiveKID(), want)
	}
	if _, err := KeyID(pub[:31]); err == nil {
		t.Fatal("KeyID accepted a 31-byte key")
	}
}

func TestNewKeyRingFromKey(t *testing.T) {
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	_, other, _ := ed25519.GenerateKey(rand.Reader)
	mismatched := append(append(ed25519.PrivateKey{}, priv.Seed()...), other.Public().(ed25519.PublicKey)...)
	tests := []struct {
		name string
		key  ed25519.PrivateKey
		ok   bool
	}{
		{"good", priv, true},
		{"nil", nil, false},
		{"seed only", priv.Seed(), false},
		{"public half from another key", mismatched, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ring, err := NewKeyRingFromKey(tc.key)
			if (err == nil) != tc.ok {
				t.Fatalf("err = %v, want ok = %v", err, tc.ok)
			}
			if !tc.ok {
				return
			}
			kid, _ := KeyID(pub)
			got, err := ring.Key(kid)
			if err != nil || !got.Equal(pub) {
				t.Fatalf("Key(%q) = %x, %v", kid, got, err)
			}
			// The ring must not alias the caller's slice.
			tc.key[0] ^= 0xff
			defer func() { tc.key[0] ^= 0xff }()
			tok, _, err := newTestIssuer(t, ring).IssueAccess("p", t0)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := newTestVerifier(t, StaticKeys{kid: pub}, "").VerifyAccess(tok, t0); err != nil {
				t.Fatalf("token from ring built on the key: %v", err)
			}
		})
	}
}

// A token signed before a rotation verifies through the overlap and is
// refused once Prune withdraws its key.
func TestRotationOverlap(t *testing.T) {
	ring := NewKeyRing()
	iss := newTestIssuer(t, ring)
	v := newTestVerifier(t, ring, "")
	oldKID := ring.ActiveKID()
	oldTok, _, err := iss.IssueAccess("player-1", t0)
	if err != nil {
		t.Fatal(err)
	}

	rotatedAt := t0.Add(time.Minute)
	if err := ring.Rotate(rotatedAt); err != nil {
		t.Fatal(err)
	}
	newKID := ring.ActiveKID()
	if newKID == oldKID {
		t.Fatal("Rotate kept the active key")
	}
	newTok, _, err := iss.IssueAccess("player-1", rotatedAt)
	if err != nil {
		t.Fatal(err)
	}
	keys := ring.Keys()
	if len(keys) != 2 || keys[0].KID != newKID || !keys[0].Active || !keys[0].Created.Equal(rotatedAt) ||
		keys[1].KID != oldKID || keys[1].Active || !keys[1].RetireAt.Equal(rotatedAt.Add(DefaultOverlap)) {
		t.Fatalf("Keys() = %+v", keys)
	}
	jwks, err := ParseJWKS(mustJWKS(t, ring))
	if err != nil || len(jwks) != 2 || jwks[oldKID] == nil || jwks[newKID] == nil {
		t.Fatalf("JWKS after rotation = %v, %v", jwks, err)
	}

	verifyAt := rotatedAt.Add(time.Minute) // both tokens still live
	for _, tok := range []string{oldTok, newTok} {
		if _, err := v.VerifyAccess(tok, verifyAt); err != nil {
			t.Fatalf("during overlap: %v", err)
		}
	}

	steps := []struct {
		name    string
		at      time.Time
		dropped int
		oldErr  error
	}{
		{"just before the overlap ends", rotatedAt.Add(DefaultOverlap - time.Nanosecond), 0, nil},
		{"when the overlap ends", rotatedAt.Add(DefaultOverlap), 1, ErrInvalid},
		{"again", rotatedAt.Add(2 * DefaultOverlap), 0, ErrInvalid},
	}
	for _, st := range steps {
		n, err := ring.Prune(st.at)
		if err != nil || n != st.dropped {
			t.Fatalf("%s: Prune = %d, %v; want %d", st.name, n, err, st.dropped)
		}
		_, err = v.VerifyAccess(oldTok, verifyAt)
		checkErr(t, err, st.oldErr, "")
		if _, err := v.VerifyAccess(newTok, verifyAt); err != nil {
			t.Fatalf("%s: new token: %v", st.name, err)
		}
	}
	if len(ring.Keys()) != 1 {
		t.Fatalf("after prune: %+v", ring.Keys())
	}
}

func TestRotateTwice(t *testing.T) {
	ring := NewKeyRing()
	first := ring.ActiveKID()
	for i, at := range []time.Time{t0, t0.Add(time.Hour)} {
		if err := ring.Rotate(at); err != nil {
			t.Fatalf("rotation %d: %v", i, err)
		}
	}
	keys := ring.Keys()
	if len(keys) != 3 || keys[2].KID != first {
		t.Fatalf("Keys() = %+v", keys)
	}
	// Each key keeps the retire time of its own rotation.
	if !keys[1].RetireAt.Equal(t0.Add(time.Hour).Add(DefaultOverlap)) || !keys[2].RetireAt.Equal(t0.Add(DefaultOverlap)) {
		t.Fatalf("retire times = %v, %v", keys[1].RetireAt, keys[2].RetireAt)
	}
	if n, err := ring.Prune(t0.Add(DefaultOverlap)); err != nil || n != 1 || len(ring.Keys()) != 2 {
		t.Fatalf("Prune = %d, %v; keys %+v", n, err, ring.Keys())
	}
}

// Signing and verifying never race with rotation (run with -race).
func TestKeyRingConcurrentRotation(t *testing.T) {
	ring := NewKeyRing()
	iss := newTestIssuer(t, ring)
	v := newTestVerifier(t, ring, "")
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 50 {
				tok, _, err := iss.IssueAccess("p", t0)
				if err == nil {
					_, err = v.VerifyAccess(tok, t0)
				}
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	for i := range 20 {
		if err := ring.Rotate(t0.Add(time.Duration(i) * time.Second)); err != nil {
			t.Fatal(err)
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

func TestKeyRingUnknownKey(t *testing.T) {
	if _, err := NewKeyRing().Key("nope"); !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("Key(unknown) = %v, want ErrUnknownKey", err)
	}
}

func mustJWKS(t testing.TB, ring *KeyRing) []byte {
	t.Helper()
	data, err := ring.JWKS()
	if err != nil {
		t.Fatal(err)
	}
	return data
}
