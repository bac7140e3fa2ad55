package tokens

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// DefaultAccessTTL is an access token's lifetime when IssuerConfig does not
// set one. Cells verify access tokens offline and cannot revoke them, so the
// lifetime bounds how long a stolen or banned player's token keeps working;
// clients refresh well within it.
const DefaultAccessTTL = 15 * time.Minute

// MaxPlayerIDLength bounds the subject of an access token; player ids are
// UUIDs (36 bytes), so anything near this is a caller bug, not a player.
const MaxPlayerIDLength = 128

// IssuerConfig configures an Issuer.
type IssuerConfig struct {
	// Keys signs the tokens. Required.
	Keys *KeyRing
	// Issuer is the "iss" claim, the global core's public URL. Required.
	Issuer string
	// Audience is the "aud" claim the cells check. Required.
	Audience string
	// AccessTTL is how long access tokens live; zero means DefaultAccessTTL.
	// It must leave the key ring's overlap room for clock leeway.
	AccessTTL time.Duration
}

// Issuer mints player access tokens. It is safe for concurrent use.
type Issuer struct {
	keys     *KeyRing
	issuer   string
	audience jwt.ClaimStrings
	ttl      time.Duration
}

// NewIssuer checks cfg and returns an Issuer.
func NewIssuer(cfg IssuerConfig) (*Issuer, error) {
	if cfg.AccessTTL == 0 {
		cfg.AccessTTL = DefaultAccessTTL
	}
	switch {
	case cfg.Keys == nil:
		return nil, errors.New("new issuer: no key ring")
	case cfg.Issuer == "":
		return nil, errors.New("new issuer: no issuer")
	case cfg.Audience == "":
		return nil, errors.New("new issuer: no audience")
	case cfg.AccessTTL < 0:
		return nil, fmt.Errorf("new issuer: negative access TTL %v", cfg.AccessTTL)
	case cfg.AccessTTL+ClockLeeway > cfg.Keys.Overlap():
		// A rotation would withdraw a key while tokens it signed still live.
		return nil, fmt.Errorf("new issuer: access TTL %v plus clock leeway exceeds the key overlap %v", cfg.AccessTTL, cfg.Keys.Overlap())
	}
	return &Issuer{
		keys:     cfg.Keys,
		issuer:   cfg.Issuer,
		audience: jwt.ClaimStrings{cfg.Audience},
		ttl:      cfg.AccessTTL,
	}, nil
}

// IssueAccess mints an access token for playerID, valid from now for the
// access TTL. expiresAt is the token's "exp" (whole seconds).
func (i *Issuer) IssueAccess(playerID string, now time.Time) (token string, expiresAt time.Time, err error) {
	if playerID == "" {
		return "", time.Time{}, errors.New("issue access token: empty player id")
	}
	if len(playerID) > MaxPlayerIDLength {
		return "", time.Time{}, fmt.Errorf("issue access token: player id longer than %d bytes", MaxPlayerIDLength)
	}
	exp := jwt.NewNumericDate(now.Add(i.ttl))
	c := &AccessClaims{Claims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    i.issuer,
			Subject:   playerID,
			Audience:  i.audience,
			IssuedAt:  jwt.NewNumericDate(now),
			NotBefore: jwt.NewNumericDate(now),
			ExpiresAt: exp,
			ID:        newTokenID(),
		},
		TokenUse: TokenUseAccess,
	}}
	token, err = i.keys.Sign(c)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("issue access token: %w", err)
	}
	return token, exp.Time, nil
}

// Sign signs other kinds of token with the issuer's key ring; see
// KeyRing.Sign.
func (i *Issuer) Sign(claims TypedClaims) (string, error) {
	return i.keys.Sign(claims)
}

// newTokenID returns a random "jti": 128 bits, unguessable and unique.
func newTokenID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // never fails; see generateKey
	return base64.RawURLEncoding.EncodeToString(b[:])
}
