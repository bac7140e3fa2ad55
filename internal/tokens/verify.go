package tokens

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// ClockLeeway is how far apart the signer's and the verifier's clocks may be.
// NTP keeps hosts within milliseconds; 10 s absorbs a resumed VM or a lagging
// host while adding only ~1% to an access token's life.
const ClockLeeway = 10 * time.Second

// MaxTokenLength bounds the tokens a Verifier will parse. Atoll's tokens are
// ~500 bytes; 4 KiB leaves room for claims to grow while capping the base64
// and JSON work one request can cost us.
const MaxTokenLength = 4096

// MaxKIDLength bounds the "kid" header. Atoll's key ids are 43 bytes.
const MaxKIDLength = 128

// KeySource finds the public key a token names in its "kid" header. It
// returns ErrUnknownKey for an id it does not hold, and ErrKeysUnavailable
// when it holds no keys at all. Keys returned must not be modified.
type KeySource interface {
	Key(kid string) (ed25519.PublicKey, error)
}

// StaticKeys is a fixed KeySource, e.g. the one public key a cell hands its
// game servers (StaticKeys{kid: pub}), or a parsed JWKS.
type StaticKeys map[string]ed25519.PublicKey

// Key implements KeySource.
func (s StaticKeys) Key(kid string) (ed25519.PublicKey, error) {
	if len(s) == 0 {
		return nil, ErrKeysUnavailable
	}
	k, ok := s[kid]
	if !ok {
		return nil, ErrUnknownKey
	}
	return k, nil
}

// VerifierConfig configures a Verifier.
type VerifierConfig struct {
	// Keys finds verification keys. Required.
	Keys KeySource
	// Issuer is the "iss" every token must carry. Required.
	Issuer string
	// Audience must be one of each token's "aud" values. Required.
	Audience string
	// TokenUse is the "token_use" every token must carry; zero means
	// TokenUseAccess.
	TokenUse string
}

// Verifier checks tokens signed by Atoll. Only EdDSA signatures from keys its
// KeySource knows are accepted, and every claim it is configured with is
// required. It is safe for concurrent use.
type Verifier struct {
	keys     KeySource
	issuer   string
	audience string
	use      string
	parser   *jwt.Parser
}

// NewVerifier checks cfg and returns a Verifier.
func NewVerifier(cfg VerifierConfig) (*Verifier, error) {
	if cfg.TokenUse == "" {
		cfg.TokenUse = TokenUseAccess
	}
	switch {
	case cfg.Keys == nil:
		return nil, errors.New("new verifier: no key source")
	case cfg.Issuer == "":
		return nil, errors.New("new verifier: no issuer")
	case cfg.Audience == "":
		return nil, errors.New("new verifier: no audience")
	}
	return &Verifier{
		keys:     cfg.Keys,
		issuer:   cfg.Issuer,
		audience: cfg.Audience,
		use:      cfg.TokenUse,
		// Claims are validated by validate, so that an expired token is
		// reported as such only when nothing else is wrong with it. Strict
		// decoding gives every token a single spelling.
		parser: jwt.NewParser(
			jwt.WithValidMethods([]string{jwt.SigningMethodEdDSA.Alg()}),
			jwt.WithoutClaimsValidation(),
			jwt.WithStrictDecoding(),
		),
	}, nil
}

// VerifyAccess verifies an access token at now and returns its claims. The
// error wraps ErrInvalid, ErrExpired or ErrKeysUnavailable.
func (v *Verifier) VerifyAccess(token string, now time.Time) (*AccessClaims, error) {
	c := new(AccessClaims)
	if err := v.VerifyInto(token, c, now); err != nil {
		return nil, err
	}
	return c, nil
}

// VerifyInto verifies a token at now, decoding its claims into claims, which
// must be a non-nil pointer. If claims implements Validate() error, it is run
// after the checks common to all tokens. On error claims is zeroed, so
// unverified data is never left in it; the error wraps ErrInvalid,
// ErrExpired or ErrKeysUnavailable.
func (v *Verifier) VerifyInto(token string, claims TypedClaims, now time.Time) error {
	rv := reflect.ValueOf(claims)
	if isNil(claims) || rv.Kind() != reflect.Pointer {
		return fmt.Errorf("verify token: claims must be a non-nil pointer, got %T", claims)
	}
	err := v.verify(token, claims, now)
	if err != nil {
		rv.Elem().SetZero()
		return fmt.Errorf("verify token: %w", err)
	}
	return nil
}

// Errors from keyFunc; classify turns them into ErrInvalid reasons.
var (
	errNoKID       = errors.New("missing key id")
	errLongKID     = errors.New("key id too long")
	errCrit        = errors.New("unsupported critical header")
	errKeysBroken  = errors.New("key source failed")
	errUnsupported = errors.New("unsupported algorithm")
)

func (v *Verifier) verify(token string, claims TypedClaims, now time.Time) error {
	if len(token) > MaxTokenLength {
		return invalid("token too long")
	}
	t, err := v.parser.ParseWithClaims(token, claims, v.keyFunc)
	if err != nil {
		return classify(t, err)
	}
	return v.validate(claims, now)
}

func (v *Verifier) keyFunc(t *jwt.Token) (any, error) {
	if !isEdDSA(t) {
		return nil, errUnsupported
	}
	// RFC 7515 §4.1.11: a token with critical extensions we do not
	// implement must be refused. We implement none.
	if _, ok := t.Header["crit"]; ok {
		return nil, errCrit
	}
	kid, _ := t.Header["kid"].(string)
	if kid == "" {
		return nil, errNoKID
	}
	if len(kid) > MaxKIDLength {
		return nil, errLongKID
	}
	key, err := v.keys.Key(kid)
	switch {
	case err == nil:
		return key, nil
	case errors.Is(err, ErrUnknownKey), errors.Is(err, ErrKeysUnavailable):
		return nil, err
	default:
		// A source that breaks is our fault, not the client's.
		return nil, fmt.Errorf("%w: %w: %w", ErrKeysUnavailable, errKeysBroken, err)
	}
}

// classify maps a parse error to one of the package's errors with a fixed
// reason; the token's own content never reaches the message.
func classify(t *jwt.Token, err error) error {
	switch {
	case errors.Is(err, ErrKeysUnavailable):
		if errors.Is(err, errKeysBroken) {
			return fmt.Errorf("%w: key source failed", ErrKeysUnavailable)
		}
		return ErrKeysUnavailable
	case errors.Is(err, jwt.ErrTokenMalformed):
		return invalid("malformed")
	case !isEdDSA(t), errors.Is(err, errUnsupported):
		return invalid("unsupported algorithm")
	case errors.Is(err, ErrUnknownKey):
		return invalid("unknown key id")
	}
	for _, reason := range []error{errNoKID, errLongKID, errCrit} {
		if errors.Is(err, reason) {
			return invalid(reason.Error())
		}
	}
	if errors.Is(err, jwt.ErrTokenSignatureInvalid) {
		return invalid("bad signature")
	}
	return invalid("unverifiable")
}

func isEdDSA(t *jwt.Token) bool {
	return t != nil && t.Method != nil && t.Method.Alg() == jwt.SigningMethodEdDSA.Alg()
}

// validate checks the claims of a token whose signature is good. Expiry is
// checked last: ErrExpired tells the client to refresh, which is only true
// of a token that is otherwise acceptable.
func (v *Verifier) validate(c TypedClaims, now time.Time) error {
	if c.GetTokenUse() != v.use {
		return invalid("wrong token use")
	}
	if iss, err := c.GetIssuer(); err != nil || iss != v.issuer {
		return invalid("wrong issuer")
	}
	if aud, err := c.GetAudience(); err != nil || !slices.Contains(aud, v.audience) {
		return invalid("wrong audience")
	}
	exp, err := c.GetExpirationTime()
	if err != nil || exp == nil {
		return invalid("missing expiry")
	}
	late := now.Add(ClockLeeway)
	if nbf, err := c.GetNotBefore(); err != nil || (nbf != nil && late.Before(nbf.Time)) {
		return invalid("not yet valid")
	}
	if iat, err := c.GetIssuedAt(); err != nil || (iat != nil && late.Before(iat.Time)) {
		return invalid("issued in the future")
	}
	if cv, ok := c.(interface{ Validate() error }); ok {
		if err := cv.Validate(); err != nil {
			return fmt.Errorf("%w: %w", ErrInvalid, err)
		}
	}
	if !now.Before(exp.Add(ClockLeeway)) {
		return ErrExpired
	}
	return nil
}
