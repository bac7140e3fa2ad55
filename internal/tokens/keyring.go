package tokens

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// DefaultOverlap is how long a rotated-out key stays published and accepted.
// Four access-token lifetimes: every token the old key signed expires long
// before the key is withdrawn, even one minted by a replica that learned of
// the rotation late.
const DefaultOverlap = time.Hour

// MinOverlap is the shortest overlap a KeyRing accepts: an access token signed
// just before a rotation must still verify, clock leeway included, until it
// expires.
const MinOverlap = DefaultAccessTTL + ClockLeeway

// KeyRing holds one active Ed25519 signing key and the keys it replaced, each
// kept for verification until its overlap ends. It is safe for concurrent use;
// Sign and Key never block on Rotate or Prune.
type KeyRing struct {
	overlap time.Duration
	dir     string // "" keeps the ring in memory only

	mu    sync.Mutex // serializes Rotate and Prune so each persists the state it derived
	state atomic.Pointer[ringState]
}

// ringState is immutable once published.
type ringState struct {
	keys  []*ringKey // active first, then retired keys, newest first
	byKID map[string]*ringKey
}

type ringKey struct {
	kid      string
	header   string // jwsHeader(kid)
	priv     ed25519.PrivateKey
	pub      ed25519.PublicKey
	created  time.Time
	retireAt time.Time // zero for the active key
}

// KeyInfo describes one key of a KeyRing.
type KeyInfo struct {
	KID     string
	Created time.Time // zero when unknown (NewKeyRingFromKey)
	// RetireAt is when Prune may drop the key; zero for the active key.
	RetireAt time.Time
	Active   bool
}

// NewKeyRing returns an in-memory key ring with a fresh key and
// DefaultOverlap. Nothing is written to disk.
func NewKeyRing() *KeyRing {
	k := &KeyRing{overlap: DefaultOverlap}
	k.state.Store(newRingState([]*ringKey{generateKey(time.Now())}))
	return k
}

// NewKeyRingFromKey returns an in-memory key ring whose only key is priv,
// with DefaultOverlap. The key id is the key's RFC 7638 thumbprint.
func NewKeyRingFromKey(priv ed25519.PrivateKey) (*KeyRing, error) {
	rk, err := keyFromPrivate(priv, time.Time{})
	if err != nil {
		return nil, fmt.Errorf("key ring from key: %w", err)
	}
	k := &KeyRing{overlap: DefaultOverlap}
	k.state.Store(newRingState([]*ringKey{rk}))
	return k, nil
}

func validateOverlap(overlap time.Duration) error {
	if overlap < MinOverlap {
		return fmt.Errorf("overlap %v is shorter than the minimum %v (access token lifetime plus clock leeway)", overlap, MinOverlap)
	}
	return nil
}

// Overlap returns how long a rotated-out key stays published.
func (k *KeyRing) Overlap() time.Duration { return k.overlap }

// Rotate makes a fresh key the active one. The previous active key stays
// published and accepted until now + overlap, when Prune drops it. A
// disk-backed ring persists the new state before using it; on error nothing
// changes.
func (k *KeyRing) Rotate(now time.Time) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	old := k.state.Load()
	keys := make([]*ringKey, 0, len(old.keys)+1)
	keys = append(keys, generateKey(now))
	for i, rk := range old.keys {
		if i == 0 {
			retired := *rk
			retired.retireAt = now.Add(k.overlap)
			rk = &retired
		}
		keys = append(keys, rk)
	}
	if err := k.publish(newRingState(keys)); err != nil {
		return fmt.Errorf("rotate signing key: %w", err)
	}
	return nil
}

// Prune drops the retired keys whose overlap has ended at now and returns how
// many it dropped. Tokens they signed are refused from then on.
func (k *KeyRing) Prune(now time.Time) (int, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	old := k.state.Load()
	keys := slices.DeleteFunc(slices.Clone(old.keys), func(rk *ringKey) bool {
		return !rk.retireAt.IsZero() && !now.Before(rk.retireAt)
	})
	dropped := len(old.keys) - len(keys)
	if dropped == 0 {
		return 0, nil
	}
	if err := k.publish(newRingState(keys)); err != nil {
		return 0, fmt.Errorf("prune signing keys: %w", err)
	}
	return dropped, nil
}

// publish persists s when the ring is disk-backed, then makes it current.
// Callers hold k.mu.
func (k *KeyRing) publish(s *ringState) error {
	if k.dir != "" {
		if err := saveKeys(k.dir, s); err != nil {
			return err
		}
	}
	k.state.Store(s)
	return nil
}

// Key returns the public key with id kid, active or retired; it makes the
// ring a KeySource for the service that signs. The returned key must not be
// modified.
func (k *KeyRing) Key(kid string) (ed25519.PublicKey, error) {
	rk, ok := k.state.Load().byKID[kid]
	if !ok {
		return nil, ErrUnknownKey
	}
	return rk.pub, nil
}

// Keys describes the ring's keys, active first.
func (k *KeyRing) Keys() []KeyInfo {
	s := k.state.Load()
	out := make([]KeyInfo, len(s.keys))
	for i, rk := range s.keys {
		out[i] = KeyInfo{KID: rk.kid, Created: rk.created, RetireAt: rk.retireAt, Active: i == 0}
	}
	return out
}

// ActiveKID returns the id of the key Sign uses.
func (k *KeyRing) ActiveKID() string { return k.state.Load().keys[0].kid }

// Sign signs claims with the active key, naming it in the "kid" header. The
// claims must carry a token use and, if they implement Validate() error, pass
// it: a token a Verifier would refuse is never minted.
func (k *KeyRing) Sign(claims TypedClaims) (string, error) {
	if isNil(claims) {
		return "", errors.New("sign token: nil claims")
	}
	if claims.GetTokenUse() == "" {
		return "", errors.New("sign token: claims have no token use")
	}
	if v, ok := claims.(interface{ Validate() error }); ok {
		if err := v.Validate(); err != nil {
			return "", fmt.Errorf("sign token: %w", err)
		}
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("sign token: %w", err)
	}
	return k.signPayload(payload), nil
}

// signPayload makes a compact JWS of payload (JSON claims) with the active
// key. It is what golang-jwt's SignedString does, minus marshalling a header
// map on every call: the header is fixed per key, so it is encoded once.
// Login is signing-bound; see eddsa.go for the signature itself.
func (k *KeyRing) signPayload(payload []byte) string {
	active := k.state.Load().keys[0]
	enc := base64.RawURLEncoding
	n := len(active.header) + 1 + enc.EncodedLen(len(payload))
	buf := make([]byte, 0, n+1+enc.EncodedLen(ed25519.SignatureSize))
	buf = append(buf, active.header...)
	buf = append(buf, '.')
	buf = enc.AppendEncode(buf, payload)
	sig := sign(active.priv, buf)
	buf = append(buf, '.')
	buf = enc.AppendEncode(buf, sig)
	return string(buf)
}

// jwsHeader is the encoded protected header of every token key kid signs,
// byte for byte what golang-jwt produces for EdDSA with a kid.
func jwsHeader(kid string) string {
	h, _ := json.Marshal(map[string]string{"alg": jwt.SigningMethodEdDSA.Alg(), "kid": kid, "typ": "JWT"}) // a map of strings always marshals
	return base64.RawURLEncoding.EncodeToString(h)
}

// KeyID returns the RFC 7638 JWK thumbprint of pub, base64url-encoded: the key
// id Atoll gives every key. A game server handed a cell's public key builds
// its KeySource as StaticKeys{KeyID(pub): pub}.
func KeyID(pub ed25519.PublicKey) (string, error) {
	if len(pub) != ed25519.PublicKeySize {
		return "", fmt.Errorf("key id: Ed25519 public key has %d bytes, want %d", len(pub), ed25519.PublicKeySize)
	}
	return thumbprint(pub), nil
}

// thumbprint is RFC 7638 for an Ed25519 key: SHA-256 over the required
// members in lexicographic order, without whitespace.
func thumbprint(pub ed25519.PublicKey) string {
	sum := sha256.Sum256([]byte(`{"crv":"Ed25519","kty":"OKP","x":"` + base64.RawURLEncoding.EncodeToString(pub) + `"}`))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

func newRingState(keys []*ringKey) *ringState {
	s := &ringState{keys: keys, byKID: make(map[string]*ringKey, len(keys))}
	for _, rk := range keys {
		s.byKID[rk.kid] = rk
	}
	return s
}

// generateKey makes a fresh key. crypto/rand.Read never fails (it aborts the
// process if the OS cannot supply randomness), so neither does this.
func generateKey(now time.Time) *ringKey {
	seed := make([]byte, ed25519.SeedSize)
	_, _ = rand.Read(seed)
	return newRingKey(ed25519.NewKeyFromSeed(seed), now)
}

func keyFromPrivate(priv ed25519.PrivateKey, created time.Time) (*ringKey, error) {
	if len(priv) != ed25519.PrivateKeySize {
		return nil, fmt.Errorf("Ed25519 private key has %d bytes, want %d", len(priv), ed25519.PrivateKeySize)
	}
	// A key whose public half does not match its seed would sign tokens
	// nobody can verify.
	if !bytes.Equal(ed25519.NewKeyFromSeed(priv.Seed()), priv) {
		return nil, errors.New("Ed25519 private key: public half does not match the seed")
	}
	return newRingKey(slices.Clone(priv), created), nil
}

func newRingKey(priv ed25519.PrivateKey, created time.Time) *ringKey {
	pub := priv.Public().(ed25519.PublicKey)
	kid := thumbprint(pub)
	return &ringKey{kid: kid, header: jwsHeader(kid), priv: priv, pub: pub, created: created.Round(0)}
}

// isNil reports whether claims is nil or a nil pointer, either of which would
// panic on first use.
func isNil(claims TypedClaims) bool {
	if claims == nil {
		return true
	}
	rv := reflect.ValueOf(claims)
	return rv.Kind() == reflect.Pointer && rv.IsNil()
}
