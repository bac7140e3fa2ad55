package tokens

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"
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
	keys *KeyRing
	ttl  time.Duration
	// issuerJSON and audienceJSON are the "iss" and "aud" values, encoded
	// once as JSON strings.
	issuerJSON, audienceJSON []byte
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
	iss, _ := json.Marshal(cfg.Issuer) // strings always marshal
	aud, _ := json.Marshal(cfg.Audience)
	return &Issuer{keys: cfg.Keys, ttl: cfg.AccessTTL, issuerJSON: iss, audienceJSON: aud}, nil
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
	exp := now.Add(i.ttl).Truncate(time.Second)
	return i.keys.signPayload(i.accessPayload(playerID, now.Unix(), exp.Unix())), exp, nil
}

// accessPayload appends the JSON claims of an access token by hand: it is
// the same object encoding/json makes of AccessClaims (TestAccessPayload
// holds them equal), without reflection on the login hot path.
func (i *Issuer) accessPayload(playerID string, iat, exp int64) []byte {
	b := make([]byte, 0, 192+len(i.issuerJSON)+len(i.audienceJSON)+len(playerID))
	b = append(b, `{"iss":`...)
	b = append(b, i.issuerJSON...)
	b = append(b, `,"sub":`...)
	b = appendJSONString(b, playerID)
	b = append(b, `,"aud":[`...)
	b = append(b, i.audienceJSON...)
	b = append(b, `],"exp":`...)
	b = strconv.AppendInt(b, exp, 10)
	b = append(b, `,"nbf":`...)
	b = strconv.AppendInt(b, iat, 10)
	b = append(b, `,"iat":`...)
	b = strconv.AppendInt(b, iat, 10)
	b = append(b, `,"jti":"`...)
	b = appendTokenID(b)
	b = append(b, `","token_use":"`+TokenUseAccess+`"}`...)
	return b
}

// appendJSONString appends s as a JSON string. Player ids are UUIDs, which
// need no escaping; anything else goes through encoding/json.
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s) // a string always marshals
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// Sign signs other kinds of token with the issuer's key ring; see
// KeyRing.Sign.
func (i *Issuer) Sign(claims TypedClaims) (string, error) {
	return i.keys.Sign(claims)
}

// newTokenID returns a random "jti": 128 bits, unguessable and unique.
func newTokenID() string { return string(appendTokenID(nil)) }

func appendTokenID(b []byte) []byte {
	var id [16]byte
	_, _ = rand.Read(id[:]) // never fails; see generateKey
	return base64.RawURLEncoding.AppendEncode(b, id[:])
}
