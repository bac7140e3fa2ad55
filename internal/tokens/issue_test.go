package tokens

import (
	"encoding/base64"
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// TestAccessPayload holds the hand-written access claims equal to what
// encoding/json makes of AccessClaims, for ordinary and awkward strings.
func TestAccessPayload(t *testing.T) {
	for _, tc := range []struct{ issuer, audience, player string }{
		{testIssuer, testAudience, "0b4b9a5e-6a1a-4d53-9a3e-1a4a5e0e2c11"},
		{`https://a"b\c`, "<aud>&", "p\"lay\\er\n\x00é<>&"},
		{"iss", "aud", "\u2028player"},
	} {
		ring := NewKeyRing()
		iss, err := NewIssuer(IssuerConfig{Keys: ring, Issuer: tc.issuer, Audience: tc.audience})
		if err != nil {
			t.Fatal(err)
		}
		now := t0.Add(700 * time.Millisecond)
		exp := now.Add(DefaultAccessTTL)
		got := iss.accessPayload(tc.player, now.Unix(), exp.Unix())
		var gotClaims AccessClaims
		if err := json.Unmarshal(got, &gotClaims); err != nil {
			t.Fatalf("%q: payload %s is not JSON: %v", tc.player, got, err)
		}
		want, err := json.Marshal(&AccessClaims{Claims{
			RegisteredClaims: jwt.RegisteredClaims{
				Issuer: tc.issuer, Subject: tc.player, Audience: jwt.ClaimStrings{tc.audience},
				IssuedAt: jwt.NewNumericDate(now), NotBefore: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(exp),
				ID: gotClaims.ID,
			},
			TokenUse: TokenUseAccess,
		}})
		if err != nil {
			t.Fatal(err)
		}
		var g, w map[string]any
		if err := json.Unmarshal(got, &g); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(want, &w); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(g, w) {
			t.Errorf("payload\n got %s\nwant %s", got, want)
		}
		if id, err := base64.RawURLEncoding.DecodeString(gotClaims.ID); err != nil || len(id) != 16 {
			t.Errorf("jti %q is not 128 random bits", gotClaims.ID)
		}
	}
}

// TestSignMatchesGolangJWT holds the precomputed header and the signing
// input equal to golang-jwt's: Ed25519 is deterministic, so the same claims
// must give the same token byte for byte.
func TestSignMatchesGolangJWT(t *testing.T) {
	ring := NewKeyRing()
	claims := NewConnectClaims("cell-1", "server-1", "session-1", "player-1", t0, 0)
	got, err := ring.Sign(claims)
	if err != nil {
		t.Fatal(err)
	}
	tok := jwt.NewWithClaims(jwt.SigningMethodEdDSA, claims)
	tok.Header["kid"] = ring.ActiveKID()
	want, err := tok.SignedString(activePrivate(ring))
	if err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Fatalf("token\n got %s\nwant %s", got, want)
	}
}
