package tokens

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/go-jose/go-jose/v4"
)

func TestJWKSFormat(t *testing.T) {
	ring := NewKeyRing()
	if err := ring.Rotate(t0); err != nil {
		t.Fatal(err)
	}
	data := mustJWKS(t, ring)
	var raw struct {
		Keys []map[string]any `json:"keys"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		t.Fatal(err)
	}
	if len(raw.Keys) != 2 {
		t.Fatalf("%d keys, want 2: %s", len(raw.Keys), data)
	}
	for i, k := range raw.Keys {
		if k["kty"] != "OKP" || k["crv"] != "Ed25519" || k["alg"] != "EdDSA" || k["use"] != "sig" || k["kid"] != ring.Keys()[i].KID {
			t.Errorf("key %d = %v", i, k)
		}
		if _, leaked := k["d"]; leaked {
			t.Fatalf("key %d publishes its private half", i)
		}
	}
	// Standard JOSE tooling reads it.
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(data, &set); err != nil {
		t.Fatal(err)
	}
	for _, info := range ring.Keys() {
		want, _ := ring.Key(info.KID)
		keys := set.Key(info.KID)
		if len(keys) != 1 || !keys[0].IsPublic() || !want.Equal(keys[0].Key) {
			t.Fatalf("go-jose sees %v for %s", keys, info.KID)
		}
	}
}

func TestJWKSHandler(t *testing.T) {
	ring := NewKeyRing()
	srv := httptest.NewServer(ring.JWKSHandler())
	t.Cleanup(srv.Close)

	get := func(method string) (*http.Response, []byte) {
		req, _ := http.NewRequest(method, srv.URL+JWKSPath, nil)
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp, body
	}
	resp, body := get(http.MethodGet)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/json" ||
		resp.Header.Get("Cache-Control") != fmt.Sprintf("public, max-age=%d", int(JWKSMaxAge.Seconds())) {
		t.Fatalf("GET: %s %v", resp.Status, resp.Header)
	}
	if keys, err := ParseJWKS(body); err != nil || len(keys) != 1 || keys[ring.ActiveKID()] == nil {
		t.Fatalf("GET body %s: %v", body, err)
	}

	// The handler always serves the current ring.
	if err := ring.Rotate(t0); err != nil {
		t.Fatal(err)
	}
	if _, body = get(http.MethodGet); strings.Count(string(body), `"kid"`) != 2 {
		t.Fatalf("after Rotate: %s", body)
	}

	if resp, body = get(http.MethodHead); resp.StatusCode != http.StatusOK || len(body) != 0 {
		t.Fatalf("HEAD: %s, %d body bytes", resp.Status, len(body))
	}
	resp, body = get(http.MethodPost)
	if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != "GET, HEAD" || !strings.Contains(string(body), `"method_not_allowed"`) {
		t.Fatalf("POST: %s %v %s", resp.Status, resp.Header, body)
	}
}

// Caches must drop a JWKS long before any key it lists is withdrawn.
func TestJWKSMaxAgeShorterThanOverlap(t *testing.T) {
	if JWKSMaxAge >= MinOverlap || JWKSMaxAge >= DefaultOverlap {
		t.Fatalf("JWKSMaxAge %v must be shorter than MinOverlap %v and DefaultOverlap %v", JWKSMaxAge, MinOverlap, DefaultOverlap)
	}
}

func TestOpenIDConfiguration(t *testing.T) {
	for _, issuer := range []string{"https://auth.atoll.test", "https://auth.atoll.test/"} {
		var doc map[string]any
		if err := json.Unmarshal(OpenIDConfiguration(issuer), &doc); err != nil {
			t.Fatal(err)
		}
		if doc["issuer"] != issuer || doc["jwks_uri"] != "https://auth.atoll.test/.well-known/jwks.json" {
			t.Fatalf("%q: %v", issuer, doc)
		}
		algs, _ := doc["id_token_signing_alg_values_supported"].([]any)
		if len(algs) != 1 || algs[0] != "EdDSA" {
			t.Fatalf("algs = %v", doc["id_token_signing_alg_values_supported"])
		}
		for _, field := range []string{"response_types_supported", "subject_types_supported"} {
			if _, ok := doc[field]; !ok {
				t.Fatalf("%s missing (required by OpenID discovery)", field)
			}
		}
	}

	rec := httptest.NewRecorder()
	OpenIDConfigurationHandler(testIssuer).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, OpenIDConfigurationPath, nil))
	if rec.Code != http.StatusOK || rec.Body.String() != string(OpenIDConfiguration(testIssuer)) || !strings.HasPrefix(rec.Header().Get("Cache-Control"), "public, max-age=") {
		t.Fatalf("handler: %d %v %s", rec.Code, rec.Header(), rec.Body)
	}
}

func TestParseJWKS(t *testing.T) {
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	kid, _ := KeyID(pub)
	x := base64.RawURLEncoding.EncodeToString(pub)
	d := base64.RawURLEncoding.EncodeToString(priv.Seed())
	ed := func(extra string) string {
		return `{"kty":"OKP","crv":"Ed25519","kid":"` + kid + `","x":"` + x + `"` + extra + `}`
	}
	rsa := `{"kty":"RSA","kid":"r1","alg":"RS256","n":"0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw","e":"AQAB"}`
	tests := []struct {
		name   string
		data   string
		keys   int
		reason string // empty: must parse
	}{
		{name: "one key", data: `{"keys":[` + ed(`,"alg":"EdDSA","use":"sig"`) + `]}`, keys: 1},
		{name: "no alg or use", data: `{"keys":[` + ed("") + `]}`, keys: 1},
		{name: "other key types skipped", data: `{"keys":[` + rsa + `,` + ed("") + `]}`, keys: 1},
		{name: "encryption key skipped", data: `{"keys":[` + ed(`,"use":"enc"`) + `]}`, reason: "no usable"},
		{name: "other alg skipped", data: `{"keys":[` + ed(`,"alg":"ES256"`) + `]}`, reason: "no usable"},
		{name: "key without kid skipped", data: `{"keys":[{"kty":"OKP","crv":"Ed25519","x":"` + x + `"}]}`, reason: "no usable"},
		{name: "only other key types", data: `{"keys":[` + rsa + `]}`, reason: "no usable"},
		{name: "empty set", data: `{"keys":[]}`, reason: "no usable"},
		{name: "no keys member", data: `{}`, reason: "no usable"},
		{name: "private key", data: `{"keys":[` + ed(`,"d":"`+d+`"`) + `]}`, reason: "private key material"},
		{name: "symmetric key", data: `{"keys":[{"kty":"oct","kid":"h","k":"c2VjcmV0"},` + ed("") + `]}`, reason: "private key material"},
		{name: "duplicate kid", data: `{"keys":[` + ed("") + `,` + ed("") + `]}`, reason: "repeats kid"},
		{name: "short x", data: `{"keys":[{"kty":"OKP","crv":"Ed25519","kid":"k","x":"AAAA"}]}`, reason: "key 0"},
		{name: "x not base64", data: `{"keys":[{"kty":"OKP","crv":"Ed25519","kid":"k","x":"!!"}]}`, reason: "key 0"},
		{name: "kid too long", data: `{"keys":[{"kty":"OKP","crv":"Ed25519","kid":"` + strings.Repeat("k", MaxKIDLength+1) + `","x":"` + x + `"}]}`, reason: "kid longer"},
		{name: "key not an object", data: `{"keys":[42]}`, reason: "key 0"},
		{name: "not JSON", data: `<html>`, reason: "parse JWKS"},
		{name: "too large", data: `{"keys":[` + ed("") + `]}` + strings.Repeat(" ", MaxJWKSBytes), reason: "larger than"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			keys, err := ParseJWKS([]byte(tc.data))
			if tc.reason != "" {
				if err == nil || !strings.Contains(err.Error(), tc.reason) {
					t.Fatalf("ParseJWKS = %v, %v; want error mentioning %q", keys, err, tc.reason)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(keys) != tc.keys || !keys[kid].Equal(pub) {
				t.Fatalf("keys = %v", keys)
			}
		})
	}
}
