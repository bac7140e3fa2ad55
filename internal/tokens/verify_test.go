package tokens

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

func withClaim(name string, value any) jwt.MapClaims {
	c := validMapClaims()
	if value == nil {
		delete(c, name)
	} else {
		c[name] = value
	}
	return c
}

func segments(tok string) []string { return strings.Split(tok, ".") }

// flipSignature changes one signature byte, keeping the encoding valid.
func flipSignature(tok string) string {
	p := segments(tok)
	sig, _ := base64.RawURLEncoding.DecodeString(p[2])
	sig[5] ^= 0x01
	p[2] = base64.RawURLEncoding.EncodeToString(sig)
	return strings.Join(p, ".")
}

// swapSubject re-encodes the payload with another subject, keeping the
// original header and signature.
func swapSubject(tok string) string {
	p := segments(tok)
	raw, _ := base64.RawURLEncoding.DecodeString(p[1])
	var m map[string]any
	_ = json.Unmarshal(raw, &m)
	m["sub"] = "player-2"
	raw, _ = json.Marshal(m)
	p[1] = base64.RawURLEncoding.EncodeToString(raw)
	return strings.Join(p, ".")
}

// nonCanonical sets unused trailing bits of the signature's last base64
// character: lenient decoders read the same bytes, strict ones refuse.
func nonCanonical(tok string) string {
	p := segments(tok)
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	last := strings.IndexByte(alphabet, p[2][len(p[2])-1])
	p[2] = p[2][:len(p[2])-1] + string(alphabet[last|1])
	return strings.Join(p, ".")
}

var (
	rsaKey = sync.OnceValue(func() *rsa.PrivateKey {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		return k
	})
	ecKey = sync.OnceValue(func() *ecdsa.PrivateKey {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			panic(err)
		}
		return k
	})
)

func TestVerifyAccessRejects(t *testing.T) {
	ring := NewKeyRing()
	kid := ring.ActiveKID()
	priv := activePrivate(ring)
	pub := priv.Public().(ed25519.PublicKey)
	_, otherPriv, _ := ed25519.GenerateKey(rand.Reader)
	v := newTestVerifier(t, ring, TokenUseAccess)
	withKID := map[string]any{"kid": kid}
	good := signRaw(t, jwt.SigningMethodEdDSA, priv, withKID, validMapClaims())
	exp := t0.Add(DefaultAccessTTL)

	connect, err := ring.Sign(&ConnectClaims{
		Claims: Claims{RegisteredClaims: jwt.RegisteredClaims{
			Issuer: testIssuer, Subject: "player-1", Audience: jwt.ClaimStrings{testAudience},
			IssuedAt: jwt.NewNumericDate(t0), ExpiresAt: jwt.NewNumericDate(exp),
		}, TokenUse: TokenUseConnect},
		SessionID: "s1", ServerID: testAudience,
	})
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name   string
		token  string
		now    time.Time
		want   error
		reason string
	}{
		{name: "valid", token: good, now: t0},
		{name: "valid within leeway before nbf", token: good, now: t0.Add(-ClockLeeway)},
		{name: "valid within leeway after exp", token: good, now: exp.Add(ClockLeeway - time.Second)},
		{name: "expired", token: good, now: exp.Add(ClockLeeway), want: ErrExpired},
		{name: "long expired", token: good, now: exp.Add(24 * time.Hour), want: ErrExpired},
		{name: "not yet valid", token: signRaw(t, jwt.SigningMethodEdDSA, priv, withKID, withClaim("nbf", t0.Add(time.Minute).Unix())), now: t0, want: ErrInvalid, reason: "not yet valid"},
		{name: "issued in the future", token: signRaw(t, jwt.SigningMethodEdDSA, priv, withKID, withClaim("iat", t0.Add(time.Minute).Unix())), now: t0, want: ErrInvalid, reason: "issued in the future"},
		{name: "alg none", token: signRaw(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, withKID, validMapClaims()), now: t0, want: ErrInvalid, reason: "unsupported algorithm"},
		{name: "HS256 keyed with the public key", token: signRaw(t, jwt.SigningMethodHS256, []byte(pub), withKID, validMapClaims()), now: t0, want: ErrInvalid, reason: "unsupported algorithm"},
		{name: "RS256", token: signRaw(t, jwt.SigningMethodRS256, rsaKey(), withKID, validMapClaims()), now: t0, want: ErrInvalid, reason: "unsupported algorithm"},
		{name: "PS256", token: signRaw(t, jwt.SigningMethodPS256, rsaKey(), withKID, validMapClaims()), now: t0, want: ErrInvalid, reason: "unsupported algorithm"},
		{name: "ES256", token: signRaw(t, jwt.SigningMethodES256, ecKey(), withKID, validMapClaims()), now: t0, want: ErrInvalid, reason: "unsupported algorithm"},
		{name: "unknown alg", token: strings.Replace(good, segments(good)[0], base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"XX","kid":"`+kid+`"}`)), 1), now: t0, want: ErrInvalid, reason: "unsupported algorithm"},
		{name: "missing alg", token: strings.Replace(good, segments(good)[0], base64.RawURLEncoding.EncodeToString([]byte(`{"kid":"`+kid+`"}`)), 1), now: t0, want: ErrInvalid, reason: "unsupported algorithm"},
		{name: "missing kid", token: signRaw(t, jwt.SigningMethodEdDSA, priv, nil, validMapClaims()), now: t0, want: ErrInvalid, reason: "missing key id"},
		{name: "kid not a string", token: signRaw(t, jwt.SigningMethodEdDSA, priv, map[string]any{"kid": 7}, validMapClaims()), now: t0, want: ErrInvalid, reason: "missing key id"},
		{name: "unknown kid", token: signRaw(t, jwt.SigningMethodEdDSA, priv, map[string]any{"kid": "nope"}, validMapClaims()), now: t0, want: ErrInvalid, reason: "unknown key id"},
		{name: "kid too long", token: signRaw(t, jwt.SigningMethodEdDSA, priv, map[string]any{"kid": strings.Repeat("k", MaxKIDLength+1)}, validMapClaims()), now: t0, want: ErrInvalid, reason: "key id too long"},
		{name: "critical header", token: signRaw(t, jwt.SigningMethodEdDSA, priv, map[string]any{"kid": kid, "crit": []string{"exp"}}, validMapClaims()), now: t0, want: ErrInvalid, reason: "critical header"},
		{name: "signed by another key under our kid", token: signRaw(t, jwt.SigningMethodEdDSA, otherPriv, withKID, validMapClaims()), now: t0, want: ErrInvalid, reason: "bad signature"},
		{name: "tampered signature", token: flipSignature(good), now: t0, want: ErrInvalid, reason: "bad signature"},
		{name: "tampered payload", token: swapSubject(good), now: t0, want: ErrInvalid, reason: "bad signature"},
		{name: "tampered and expired", token: flipSignature(good), now: exp.Add(time.Hour), want: ErrInvalid, reason: "bad signature"},
		{name: "non-canonical base64", token: nonCanonical(good), now: t0, want: ErrInvalid, reason: "malformed"},
		{name: "wrong issuer", token: signRaw(t, jwt.SigningMethodEdDSA, priv, withKID, withClaim("iss", "https://evil.test")), now: t0, want: ErrInvalid, reason: "wrong issuer"},
		{name: "missing issuer", token: signRaw(t, jwt.SigningMethodEdDSA, priv, withKID, withClaim("iss", nil)), now: t0, want: ErrInvalid, reason: "wrong issuer"},
		{name: "wrong audience", token: signRaw(t, jwt.SigningMethodEdDSA, priv, withKID, withClaim("aud", []string{"other"})), now: t0, want: ErrInvalid, reason: "wrong audience"},
		{name: "audience as string", token: signRaw(t, jwt.SigningMethodEdDSA, priv, withKID, withClaim("aud", testAudience)), now: t0},
		{name: "missing audience", token: signRaw(t, jwt.SigningMethodEdDSA, priv, withKID, withClaim("aud", nil)), now: t0, want: ErrInvalid, reason: "wrong audience"},
		{name: "wrong issuer and expired", token: signRaw(t, jwt.SigningMethodEdDSA, priv, withKID, withClaim("iss", "https://evil.test")), now: exp.Add(time.Hour), want: ErrInvalid, reason: "wrong issuer"},
		{name: "missing expiry", token: signRaw(t, jwt.SigningMethodEdDSA, priv, withKID, withClaim("exp", nil)), now: t0, want: ErrInvalid, reason: "missing expiry"},
		{name: "expiry not a number", token: signRaw(t, jwt.SigningMethodEdDSA, priv, withKID, withClaim("exp", "tomorrow")), now: t0, want: ErrInvalid, reason: "malformed"},
		{name: "connect token as access token", token: connect, now: t0, want: ErrInvalid, reason: "wrong token use"},
		{name: "missing token use", token: signRaw(t, jwt.SigningMethodEdDSA, priv, withKID, withClaim("token_use", nil)), now: t0, want: ErrInvalid, reason: "wrong token use"},
		{name: "missing subject", token: signRaw(t, jwt.SigningMethodEdDSA, priv, withKID, withClaim("sub", nil)), now: t0, want: ErrInvalid, reason: "missing subject"},
		{name: "empty", token: "", now: t0, want: ErrInvalid, reason: "malformed"},
		{name: "one segment", token: "abc", now: t0, want: ErrInvalid, reason: "malformed"},
		{name: "two segments", token: "abc.def", now: t0, want: ErrInvalid, reason: "malformed"},
		{name: "four segments", token: good + ".x", now: t0, want: ErrInvalid, reason: "malformed"},
		{name: "not base64", token: "!!!.???.***", now: t0, want: ErrInvalid, reason: "malformed"},
		{name: "header not JSON", token: base64.RawURLEncoding.EncodeToString([]byte("nope")) + "." + segments(good)[1] + "." + segments(good)[2], now: t0, want: ErrInvalid, reason: "malformed"},
		{name: "payload not an object", token: segments(good)[0] + "." + base64.RawURLEncoding.EncodeToString([]byte("[1,2]")) + "." + segments(good)[2], now: t0, want: ErrInvalid, reason: "malformed"},
		{name: "too long", token: good + strings.Repeat("A", MaxTokenLength), now: t0, want: ErrInvalid, reason: "too long"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := v.VerifyAccess(tc.token, tc.now)
			checkErr(t, err, tc.want, tc.reason)
			if tc.want != nil {
				if c != nil {
					t.Fatalf("claims returned with error: %+v", c)
				}
				if strings.Contains(err.Error(), "evil") {
					t.Fatalf("error %q quotes the token", err)
				}
				return
			}
			if c.PlayerID() != "player-1" || c.TokenUse != TokenUseAccess {
				t.Fatalf("claims = %+v", c)
			}
		})
	}
}

func TestIssueAccessRoundTrip(t *testing.T) {
	ring := NewKeyRing()
	iss := newTestIssuer(t, ring)
	v := newTestVerifier(t, ring, "")
	now := t0.Add(1500 * time.Millisecond)
	tok, expiresAt, err := iss.IssueAccess("player-42", now)
	if err != nil {
		t.Fatal(err)
	}
	if want := now.Add(DefaultAccessTTL).Truncate(time.Second); !expiresAt.Equal(want) {
		t.Fatalf("expiresAt = %v, want %v", expiresAt, want)
	}
	c, err := v.VerifyAccess(tok, now)
	if err != nil {
		t.Fatal(err)
	}
	if c.Issuer != testIssuer || c.Subject != "player-42" || len(c.Audience) != 1 || c.Audience[0] != testAudience ||
		c.TokenUse != TokenUseAccess || c.ID == "" || !c.ExpiresAt.Equal(expiresAt) ||
		c.IssuedAt == nil || c.NotBefore == nil || !c.IssuedAt.Equal(now.Truncate(time.Second)) {
		t.Fatalf("claims = %+v", c)
	}
	hdr, _ := base64.RawURLEncoding.DecodeString(segments(tok)[0])
	var h map[string]any
	if err := json.Unmarshal(hdr, &h); err != nil || h["alg"] != "EdDSA" || h["kid"] != ring.ActiveKID() {
		t.Fatalf("header = %s", hdr)
	}
	if _, err := v.VerifyAccess(tok, expiresAt.Add(ClockLeeway)); !errors.Is(err, ErrExpired) {
		t.Fatalf("at expiry + leeway: %v, want ErrExpired", err)
	}

	tok2, _, err := iss.IssueAccess("player-42", now)
	if err != nil {
		t.Fatal(err)
	}
	c2, err := v.VerifyAccess(tok2, now)
	if err != nil {
		t.Fatal(err)
	}
	if c2.ID == c.ID {
		t.Fatalf("two tokens share jti %q", c.ID)
	}
}

func TestIssueAccessBadInput(t *testing.T) {
	iss := newTestIssuer(t, NewKeyRing())
	for _, id := range []string{"", strings.Repeat("p", MaxPlayerIDLength+1)} {
		if _, _, err := iss.IssueAccess(id, t0); err == nil {
			t.Errorf("IssueAccess(%d-byte id) succeeded", len(id))
		}
	}
}

func TestNewIssuerConfig(t *testing.T) {
	ring := NewKeyRing()
	tests := []struct {
		name string
		cfg  IssuerConfig
		ok   bool
	}{
		{"defaults", IssuerConfig{Keys: ring, Issuer: "i", Audience: "a"}, true},
		{"ttl fills overlap", IssuerConfig{Keys: ring, Issuer: "i", Audience: "a", AccessTTL: DefaultOverlap - ClockLeeway}, true},
		{"ttl outlives overlap", IssuerConfig{Keys: ring, Issuer: "i", Audience: "a", AccessTTL: DefaultOverlap}, false},
		{"negative ttl", IssuerConfig{Keys: ring, Issuer: "i", Audience: "a", AccessTTL: -time.Second}, false},
		{"no keys", IssuerConfig{Issuer: "i", Audience: "a"}, false},
		{"no issuer", IssuerConfig{Keys: ring, Audience: "a"}, false},
		{"no audience", IssuerConfig{Keys: ring, Issuer: "i"}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewIssuer(tc.cfg)
			if (err == nil) != tc.ok {
				t.Fatalf("NewIssuer: err = %v, want ok = %v", err, tc.ok)
			}
		})
	}
}

func TestNewVerifierConfig(t *testing.T) {
	ring := NewKeyRing()
	for _, cfg := range []VerifierConfig{
		{Issuer: "i", Audience: "a"},
		{Keys: ring, Audience: "a"},
		{Keys: ring, Issuer: "i"},
	} {
		if _, err := NewVerifier(cfg); err == nil {
			t.Errorf("NewVerifier(%+v) succeeded", cfg)
		}
	}
}

// A connect token is verified by a game server against the cell's public key,
// with the server id as audience; access tokens and other servers' tokens
// are refused.
func TestConnectTokens(t *testing.T) {
	cell := NewKeyRing()
	pub, err := cell.Key(cell.ActiveKID())
	if err != nil {
		t.Fatal(err)
	}
	kid, err := KeyID(pub)
	if err != nil || kid != cell.ActiveKID() {
		t.Fatalf("KeyID = %q, %v; want %q", kid, err, cell.ActiveKID())
	}
	const cellIssuer = "atoll-cell:eu-west"
	server, err := NewVerifier(VerifierConfig{Keys: StaticKeys{kid: pub}, Issuer: cellIssuer, Audience: "dgs-7", TokenUse: TokenUseConnect})
	if err != nil {
		t.Fatal(err)
	}
	signConnect := func(serverID, session, player string) string {
		tok, err := cell.Sign(NewConnectClaims(cellIssuer, serverID, session, player, t0, 0))
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	viaIssuer, err := newTestIssuer(t, cell).Sign(NewConnectClaims(cellIssuer, "dgs-7", "s1", "player-1", t0, 0))
	if err != nil {
		t.Fatal(err)
	}
	access, _, err := newTestIssuer(t, cell).IssueAccess("player-1", t0)
	if err != nil {
		t.Fatal(err)
	}
	// An access token dressed with the cell's issuer and the server's audience
	// still fails on its token use.
	dressed := signRaw(t, jwt.SigningMethodEdDSA, activePrivate(cell), map[string]any{"kid": kid},
		jwt.MapClaims{"iss": cellIssuer, "aud": "dgs-7", "sub": "player-1", "sid": "s1", "srv": "dgs-7", "exp": t0.Add(time.Minute).Unix(), "token_use": TokenUseAccess})

	tests := []struct {
		name   string
		token  string
		now    time.Time
		want   error
		reason string
	}{
		{name: "valid", token: signConnect("dgs-7", "s1", "player-1"), now: t0},
		{name: "valid, signed through an Issuer", token: viaIssuer, now: t0},
		{name: "expired", token: signConnect("dgs-7", "s1", "player-1"), now: t0.Add(DefaultConnectTTL + ClockLeeway), want: ErrExpired},
		{name: "other server", token: signConnect("dgs-8", "s1", "player-1"), now: t0, want: ErrInvalid, reason: "wrong audience"},
		{name: "access token", token: access, now: t0, want: ErrInvalid, reason: "wrong token use"},
		{name: "access token with connect claims", token: dressed, now: t0, want: ErrInvalid, reason: "wrong token use"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var c ConnectClaims
			err := server.VerifyInto(tc.token, &c, tc.now)
			checkErr(t, err, tc.want, tc.reason)
			if tc.want != nil {
				if !reflect.DeepEqual(c, ConnectClaims{}) {
					t.Fatalf("claims not zeroed on error: %+v", c)
				}
				return
			}
			if c.SessionID != "s1" || c.ServerID != "dgs-7" || c.PlayerID() != "player-1" {
				t.Fatalf("claims = %+v", c)
			}
		})
	}
}

func TestSignRefusesUnverifiableClaims(t *testing.T) {
	ring := NewKeyRing()
	tests := []struct {
		name   string
		claims TypedClaims
	}{
		{"nil", nil},
		{"nil pointer", (*AccessClaims)(nil)},
		{"no token use", &AccessClaims{Claims{RegisteredClaims: jwt.RegisteredClaims{Subject: "p"}}}},
		{"access without subject", &AccessClaims{Claims{TokenUse: TokenUseAccess}}},
		{"connect without session", NewConnectClaims("c", "srv", "", "p", t0, 0)},
		{"connect without server", NewConnectClaims("c", "", "s", "p", t0, 0)},
		{"connect without player", NewConnectClaims("c", "srv", "s", "", t0, 0)},
		{"connect for another audience", func() TypedClaims {
			c := NewConnectClaims("c", "srv", "s", "p", t0, 0)
			c.Audience = append(c.Audience, "other")
			return c
		}()},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tok, err := ring.Sign(tc.claims); err == nil {
				t.Fatalf("Sign succeeded: %s", tok)
			}
		})
	}
}

func TestVerifyIntoNeedsPointer(t *testing.T) {
	v := newTestVerifier(t, NewKeyRing(), "")
	var nilClaims *AccessClaims
	if err := v.VerifyInto("a.b.c", nilClaims, t0); err == nil || errors.Is(err, ErrInvalid) {
		t.Fatalf("VerifyInto(nil pointer) = %v, want a usage error", err)
	}
}

// brokenSource fails the way a faulty custom KeySource might.
type brokenSource struct{}

func (brokenSource) Key(string) (ed25519.PublicKey, error) { return nil, errors.New("disk on fire") }

func TestKeySourceFailures(t *testing.T) {
	ring := NewKeyRing()
	tok, _, err := newTestIssuer(t, ring).IssueAccess("player-1", t0)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		keys KeySource
		want error
	}{
		{"empty static set", StaticKeys{}, ErrKeysUnavailable},
		{"broken source", brokenSource{}, ErrKeysUnavailable},
		{"static set without the kid", StaticKeys{"other": make(ed25519.PublicKey, ed25519.PublicKeySize)}, ErrInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := newTestVerifier(t, tc.keys, "").VerifyAccess(tok, t0)
			checkErr(t, err, tc.want, "")
			if strings.Contains(err.Error(), "fire") {
				t.Fatalf("error %q leaks the source's error", err)
			}
		})
	}
}
