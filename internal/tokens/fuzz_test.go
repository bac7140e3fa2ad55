package tokens

import (
	"testing"
)

// FuzzVerifyAccess feeds arbitrary strings, as a client would, to the
// verifier: it must never panic, and must accept only what the ring signed.
func FuzzVerifyAccess(f *testing.F) {
	ring := NewKeyRing()
	iss := newTestIssuer(f, ring)
	v := newTestVerifier(f, ring, "")
	good, _, err := iss.IssueAccess("player-1", t0)
	if err != nil {
		f.Fatal(err)
	}
	for _, seed := range []string{good, "", "a.b.c", "eyJhbGciOiJub25lIn0.e30.", flipSignature(good), swapSubject(good), good + "."} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, token string) {
		c, err := v.VerifyAccess(token, t0)
		if err != nil {
			if c != nil {
				t.Fatal("claims returned with an error")
			}
			return
		}
		if token != good {
			t.Fatalf("accepted a token the ring did not sign: %q", token)
		}
	})
}

// FuzzParseJWKS feeds arbitrary bytes, as a hostile endpoint would, to the
// JWKS parser: no panic, and only well-formed keys come out.
func FuzzParseJWKS(f *testing.F) {
	f.Add(mustJWKS(f, NewKeyRing()))
	f.Add([]byte(`{"keys":[{"kty":"OKP","crv":"Ed25519","kid":"k","x":"AAAA"}]}`))
	f.Add([]byte(`{"keys":[{"kty":"oct","k":"c2VjcmV0"}]}`))
	f.Add([]byte(`{"keys":null}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		keys, err := ParseJWKS(data)
		if err != nil {
			return
		}
		if len(keys) == 0 {
			t.Fatal("no keys and no error")
		}
		for kid, k := range keys {
			if kid == "" || len(kid) > MaxKIDLength || len(k) != 32 {
				t.Fatalf("bad key %q: %x", kid, k)
			}
		}
	})
}
