package identity_test

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/atollgg/atoll/global"
	"github.com/atollgg/atoll/global/globaltest"
	"github.com/atollgg/atoll/global/identity"
	"github.com/go-jose/go-jose/v4"
	"github.com/golang-jwt/jwt/v5"
)

// testIssuer is a real OpenID Connect issuer over HTTP: discovery document,
// JWKS and RS256-signed id_tokens.
type testIssuer struct {
	srv *httptest.Server
	key *rsa.PrivateKey
}

func newTestIssuer(t *testing.T) *testIssuer {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	ti := &testIssuer{key: key}
	mux := http.NewServeMux()
	mux.HandleFunc("/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]any{
			"issuer": ti.srv.URL, "jwks_uri": ti.srv.URL + "/jwks", "authorization_endpoint": ti.srv.URL + "/auth",
			"id_token_signing_alg_values_supported": []string{"RS256"},
		})
	})
	mux.HandleFunc("/jwks", func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: "k1", Algorithm: "RS256", Use: "sig"}}})
	})
	ti.srv = httptest.NewServer(mux)
	t.Cleanup(ti.srv.Close)
	return ti
}

func (ti *testIssuer) idToken(t *testing.T, sub, aud string, exp time.Time) string {
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims{"iss": ti.srv.URL, "sub": sub, "aud": aud, "iat": time.Now().Unix(), "exp": exp.Unix()})
	tok.Header["kid"] = "k1"
	s, err := tok.SignedString(ti.key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestOIDCLoginAndLink(t *testing.T) {
	iss := newTestIssuer(t)
	c := globaltest.Start(t, func(cfg *global.Config) {
		cfg.OIDC = []identity.OIDCProvider{{Issuer: iss.srv.URL, ClientID: "my-game"}}
	})
	exp := time.Now().Add(5 * time.Minute)

	// First exchange creates the player, the second logs the same one in.
	r := c.Do(t, "POST", "/auth/oidc", "", map[string]string{"id_token": iss.idToken(t, "user-1", "my-game", exp)})
	globaltest.MustStatus(t, r, http.StatusCreated)
	var first identity.SessionResponse
	r.Decode(t, &first)
	r = c.Do(t, "POST", "/auth/oidc", "", map[string]string{"id_token": iss.idToken(t, "user-1", "my-game", exp)})
	globaltest.MustStatus(t, r, http.StatusOK)
	var again identity.SessionResponse
	r.Decode(t, &again)
	if again.PlayerID != first.PlayerID {
		t.Fatalf("same subject mapped to two players: %s, %s", first.PlayerID, again.PlayerID)
	}

	// A logged-in guest links a new external identity to their account.
	g := c.Guest(t)
	r = c.Do(t, "POST", "/auth/oidc", g.Access, map[string]string{"id_token": iss.idToken(t, "user-2", "my-game", exp)})
	globaltest.MustStatus(t, r, http.StatusOK)
	var linked identity.SessionResponse
	r.Decode(t, &linked)
	if linked.PlayerID != g.ID {
		t.Fatalf("identity linked to %s, want the caller %s", linked.PlayerID, g.ID)
	}
	// …but cannot take over an identity linked elsewhere.
	r = c.Do(t, "POST", "/auth/oidc", g.Access, map[string]string{"id_token": iss.idToken(t, "user-1", "my-game", exp)})
	globaltest.MustStatus(t, r, http.StatusConflict)

	other := newTestIssuer(t) // not configured
	bad := map[string]string{
		"wrong audience": iss.idToken(t, "user-1", "someone-else", exp),
		"expired":        iss.idToken(t, "user-1", "my-game", time.Now().Add(-time.Hour)),
		"unknown issuer": other.idToken(t, "user-1", "my-game", exp),
		"garbage":        "a.b.c",
	}
	for name, tok := range bad {
		t.Run(name, func(t *testing.T) {
			r := c.Do(t, "POST", "/auth/oidc", "", map[string]string{"id_token": tok})
			globaltest.MustStatus(t, r, http.StatusUnauthorized)
		})
	}
	// A token from the configured issuer name but signed by another key.
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims{"iss": iss.srv.URL, "sub": "user-1", "aud": "my-game", "exp": exp.Unix()})
	tok.Header["kid"] = "k1"
	s, _ := tok.SignedString(other.key)
	globaltest.MustStatus(t, c.Do(t, "POST", "/auth/oidc", "", map[string]string{"id_token": s}), http.StatusUnauthorized)
}
