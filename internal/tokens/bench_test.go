package tokens

import (
	"crypto/ed25519"
	"os"
	"path/filepath"
	"testing"
)

func BenchmarkIssueAccess(b *testing.B) {
	iss := newTestIssuer(b, NewKeyRing())
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := iss.IssueAccess("3f0c5e62-6a4f-4c1e-9a55-0d6f2b8e7a91", t0); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerifyAccess(b *testing.B) {
	ring := NewKeyRing()
	tok, _, err := newTestIssuer(b, ring).IssueAccess("3f0c5e62-6a4f-4c1e-9a55-0d6f2b8e7a91", t0)
	if err != nil {
		b.Fatal(err)
	}
	v := newTestVerifier(b, ring, "")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.VerifyAccess(tok, t0); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyAccessParallel is a cell verifying on every core at once
// through a RemoteKeySet's lock-free lookup.
func BenchmarkVerifyAccessParallel(b *testing.B) {
	ring := NewKeyRing()
	tok, _, err := newTestIssuer(b, ring).IssueAccess("3f0c5e62-6a4f-4c1e-9a55-0d6f2b8e7a91", t0)
	if err != nil {
		b.Fatal(err)
	}
	// A cell restarted from its disk cache; the known kid never fetches.
	cache := filepath.Join(b.TempDir(), "jwks.json")
	if err := os.WriteFile(cache, mustJWKS(b, ring), 0o600); err != nil {
		b.Fatal(err)
	}
	set, err := NewRemoteKeySet(RemoteConfig{URL: "http://127.0.0.1:9/jwks.json", CachePath: cache})
	if err != nil {
		b.Fatal(err)
	}
	v := newTestVerifier(b, set, "")
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := v.VerifyAccess(tok, t0); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkEd25519 compares the Ed25519 the package uses with crypto/ed25519
// on a token-sized message.
func BenchmarkEd25519(b *testing.B) {
	pub, priv, err := ed25519.GenerateKey(nil)
	if err != nil {
		b.Fatal(err)
	}
	msg := make([]byte, 300)
	sig := ed25519.Sign(priv, msg)
	b.Run("sign/voi", func(b *testing.B) {
		for b.Loop() {
			sign(priv, msg)
		}
	})
	b.Run("sign/stdlib", func(b *testing.B) {
		for b.Loop() {
			ed25519.Sign(priv, msg)
		}
	})
	b.Run("verify/voi", func(b *testing.B) {
		for b.Loop() {
			verify(pub, msg, sig)
		}
	})
	b.Run("verify/stdlib", func(b *testing.B) {
		for b.Loop() {
			ed25519.Verify(pub, msg, sig)
		}
	})
}
