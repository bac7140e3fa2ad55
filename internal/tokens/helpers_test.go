package tokens

import (
	"crypto/ed25519"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

const (
	testIssuer   = "https://auth.atoll.test"
	testAudience = "atoll"
)

// t0 is the fixed "now" tests issue tokens at.
var t0 = time.Date(2031, 3, 14, 15, 9, 26, 0, time.UTC)

func newTestIssuer(t testing.TB, ring *KeyRing) *Issuer {
	t.Helper()
	iss, err := NewIssuer(IssuerConfig{Keys: ring, Issuer: testIssuer, Audience: testAudience})
	if err != nil {
		t.Fatalf("NewIssuer: %v", err)
	}
	return iss
}

func newTestVerifier(t testing.TB, keys KeySource, use string) *Verifier {
	t.Helper()
	v, err := NewVerifier(VerifierConfig{Keys: keys, Issuer: testIssuer, Audience: testAudience, TokenUse: use})
	if err != nil {
		t.Fatalf("NewVerifier: %v", err)
	}
	return v
}

func activePrivate(ring *KeyRing) ed25519.PrivateKey { return ring.state.Load().keys[0].priv }

// validMapClaims are the claims of a good access token issued at t0.
func validMapClaims() jwt.MapClaims {
	return jwt.MapClaims{
		"iss":       testIssuer,
		"sub":       "player-1",
		"aud":       []string{testAudience},
		"iat":       t0.Unix(),
		"nbf":       t0.Unix(),
		"exp":       t0.Add(DefaultAccessTTL).Unix(),
		"jti":       "jti-1",
		"token_use": TokenUseAccess,
	}
}

// signRaw signs arbitrary claims with arbitrary headers, bypassing the
// checks KeyRing.Sign makes, to build hostile tokens.
func signRaw(t testing.TB, method jwt.SigningMethod, key any, header map[string]any, claims jwt.Claims) string {
	t.Helper()
	tok := jwt.NewWithClaims(method, claims)
	for k, v := range header {
		if v == nil {
			delete(tok.Header, k)
		} else {
			tok.Header[k] = v
		}
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatalf("sign raw token: %v", err)
	}
	return s
}

func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), nil))
}

// checkErr asserts err wraps want (nil meaning success) and, when reason is
// set, that the message names it.
func checkErr(t *testing.T, err, want error, reason string) {
	t.Helper()
	if want == nil {
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		return
	}
	if !errors.Is(err, want) {
		t.Fatalf("error = %v, want %v", err, want)
	}
	if reason != "" && !strings.Contains(err.Error(), reason) {
		t.Fatalf("error = %q, want reason %q", err, reason)
	}
}
