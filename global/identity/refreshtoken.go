package identity

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"hash"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
)

// A refresh token is self-contained: its claims (player, family, generation,
// expiries) authenticated by HMAC-SHA256 under the service's refresh key.
// Logging in therefore writes nothing for the token; the database learns of
// a family only when one of its tokens is refreshed or logged out (see
// refresh.go), and from then on holds the generation of the family's only
// valid token, which is what rotation and reuse detection check. Nothing in
// the database can be replayed as a token, and a forged or altered token
// fails the MAC before any query.
//
// Wire form: refreshPrefix + base64url(version | family | player |
// generation | expires | familyExpires | mac).
const (
	refreshVersion = 1
	// refreshClaimsLen is the claims' binary length: version (1), family
	// (16), player (16), generation (4), expires (8), family expires (8).
	refreshClaimsLen = 1 + 16 + 16 + 4 + 8 + 8
	// refreshMACLen is the full HMAC-SHA256 tag.
	refreshMACLen = sha256.Size
	refreshRawLen = refreshClaimsLen + refreshMACLen
)

// refreshTokenLen is the exact length of a token in wire form; it is within
// maxRefreshTokenLen.
var refreshTokenLen = len(refreshPrefix) + base64.RawURLEncoding.EncodedLen(refreshRawLen)

// refreshClaims are what a refresh token asserts.
type refreshClaims struct {
	family, player uuid.UUID
	// generation counts the family's rotations: a login's token is 0, and
	// each refresh issues generation+1 and retires the one presented.
	generation             uint32
	expires, familyExpires time.Time // whole seconds
}

// refreshSigner mints and checks refresh tokens. It is safe for concurrent
// use.
type refreshSigner struct {
	key  []byte
	macs sync.Pool // of hash.Hash keyed with key: keying HMAC costs two block hashes
}

// refreshKeyLabel names the refresh key derived from the service's index
// key, so it differs from every other key derived from it.
const refreshKeyLabel = "atoll identity refresh-token mac v1"

func newRefreshSigner(key []byte) *refreshSigner {
	s := &refreshSigner{key: key}
	s.macs.New = func() any { return hmac.New(sha256.New, s.key) }
	return s
}

func (s *refreshSigner) mac(msg []byte, dst []byte) []byte {
	m := s.macs.Get().(hash.Hash)
	m.Reset()
	m.Write(msg)
	dst = m.Sum(dst)
	s.macs.Put(m)
	return dst
}

// mint returns the wire form of c.
func (s *refreshSigner) mint(c refreshClaims) string {
	raw := make([]byte, 0, refreshRawLen)
	raw = append(raw, refreshVersion)
	raw = append(raw, c.family[:]...)
	raw = append(raw, c.player[:]...)
	raw = binary.BigEndian.AppendUint32(raw, c.generation)
	raw = binary.BigEndian.AppendUint64(raw, uint64(c.expires.Unix()))
	raw = binary.BigEndian.AppendUint64(raw, uint64(c.familyExpires.Unix()))
	raw = s.mac(raw, raw)
	out := make([]byte, 0, refreshTokenLen)
	out = append(out, refreshPrefix...)
	return string(base64.RawURLEncoding.AppendEncode(out, raw))
}

var errRefreshForged = errors.New("refresh token fails its check")

// parse checks tok's form and MAC and returns its claims; it does not check
// expiry. It reads untrusted input: FuzzRefreshToken exercises it.
func (s *refreshSigner) parse(tok string) (refreshClaims, error) {
	if len(tok) != refreshTokenLen || !strings.HasPrefix(tok, refreshPrefix) {
		return refreshClaims{}, errRefreshForged
	}
	var raw [refreshRawLen]byte
	n, err := base64.RawURLEncoding.Strict().Decode(raw[:], []byte(tok[len(refreshPrefix):]))
	if err != nil || n != refreshRawLen {
		return refreshClaims{}, errRefreshForged
	}
	var want [refreshMACLen]byte
	if !hmac.Equal(s.mac(raw[:refreshClaimsLen], want[:0]), raw[refreshClaimsLen:]) || raw[0] != refreshVersion {
		return refreshClaims{}, errRefreshForged
	}
	var c refreshClaims
	b := raw[1:]
	copy(c.family[:], b[:16])
	copy(c.player[:], b[16:32])
	c.generation = binary.BigEndian.Uint32(b[32:36])
	c.expires = time.Unix(int64(binary.BigEndian.Uint64(b[36:44])), 0)
	c.familyExpires = time.Unix(int64(binary.BigEndian.Uint64(b[44:52])), 0)
	return c, nil
}

// live reports whether c is within both of its lifetimes at now.
func (c refreshClaims) live(now time.Time) bool {
	return now.Before(c.expires) && now.Before(c.familyExpires)
}
