package pii

import (
	"crypto/aes"
	"crypto/cipher"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
)

// Key sizes and limits.
const (
	// KeySize is 32 bytes: AES-256 for encryption, and the same for the
	// HMAC-SHA256 index key (its block-size-independent security level).
	KeySize = 32
	// maxKeys bounds a keyring. Rotation keeps the active key and the
	// ones still being re-encrypted away from; 16 is years of rotations.
	maxKeys = 16
	// maxKeyIDLen keeps key ids short: one is stored in every sealed value.
	maxKeyIDLen = 32
	// maxEncodedKeyLen is the padded base64 length of a KeySize key.
	maxEncodedKeyLen = (KeySize + 2) / 3 * 4
	// maxSpecLen bounds a key spec before parsing: maxKeys entries of an
	// id, a colon, 44 base64 characters and a comma fit easily.
	maxSpecLen = 4096
)

// ErrInvalidKeys is wrapped by every ParseKeys and ParseIndexKey error.
// Those errors name key ids and positions but never key material.
var ErrInvalidKeys = errors.New("invalid pii keys")

// Keyring holds AES-256-GCM keys by id; one is active and seals new values.
// It is immutable after parsing and safe for concurrent use.
type Keyring struct {
	active string
	ids    []string // in spec order, active first
	aeads  map[string]cipher.AEAD
}

// ParseKeys parses a comma-separated list of id:base64key entries, such as
// "k2:BASE64,k1:BASE64". The first entry is the active key; the others
// still open values sealed before a rotation. Keys are 32 bytes in standard
// or URL base64, padded or not. Ids are 1 to 32 of [A-Za-z0-9_-].
func ParseKeys(spec string) (*Keyring, error) {
	if len(spec) > maxSpecLen {
		return nil, fmt.Errorf("%w: spec longer than %d bytes", ErrInvalidKeys, maxSpecLen)
	}
	spec = strings.TrimSpace(spec)
	if spec == "" {
		return nil, fmt.Errorf("%w: no keys", ErrInvalidKeys)
	}
	entries := strings.Split(spec, ",")
	if len(entries) > maxKeys {
		return nil, fmt.Errorf("%w: %d keys, at most %d", ErrInvalidKeys, len(entries), maxKeys)
	}
	kr := &Keyring{aeads: make(map[string]cipher.AEAD, len(entries))}
	for i, entry := range entries {
		id, encoded, ok := strings.Cut(strings.TrimSpace(entry), ":")
		if !ok {
			return nil, fmt.Errorf("%w: entry %d: want id:base64key", ErrInvalidKeys, i+1)
		}
		if err := checkKeyID(id); err != nil {
			return nil, fmt.Errorf("%w: entry %d: %w", ErrInvalidKeys, i+1, err)
		}
		if _, dup := kr.aeads[id]; dup {
			return nil, fmt.Errorf("%w: key id %q appears twice", ErrInvalidKeys, id)
		}
		key, err := decodeKey(encoded)
		if err != nil {
			return nil, fmt.Errorf("%w: key %q: %w", ErrInvalidKeys, id, err)
		}
		block, err := aes.NewCipher(key)
		if err != nil {
			return nil, fmt.Errorf("%w: key %q: %w", ErrInvalidKeys, id, err)
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, fmt.Errorf("%w: key %q: %w", ErrInvalidKeys, id, err)
		}
		kr.aeads[id] = aead
		kr.ids = append(kr.ids, id)
	}
	kr.active = kr.ids[0]
	return kr, nil
}

// ActiveID returns the id of the key that seals new values.
func (kr *Keyring) ActiveID() string { return kr.active }

// IDs returns every key id, active first.
func (kr *Keyring) IDs() []string { return append([]string(nil), kr.ids...) }

// checkKeyID reports whether id can be written into a sealed value: the
// sealed format separates fields with '.', and specs use ':' and ','.
func checkKeyID(id string) error {
	if id == "" || len(id) > maxKeyIDLen {
		return fmt.Errorf("key id must be 1 to %d characters", maxKeyIDLen)
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-') {
			return fmt.Errorf("key id may contain only letters, digits, '_' and '-'")
		}
	}
	return nil
}

// decodeKey decodes a KeySize-byte key. Errors describe the problem only:
// a near-miss key is still secret.
func decodeKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if len(s) > maxEncodedKeyLen {
		return nil, fmt.Errorf("key is longer than %d characters", maxEncodedKeyLen)
	}
	var enc *base64.Encoding
	switch {
	case strings.ContainsAny(s, "-_"):
		enc = base64.URLEncoding
	default:
		enc = base64.StdEncoding
	}
	if !strings.HasSuffix(s, "=") {
		enc = enc.WithPadding(base64.NoPadding)
	}
	key, err := enc.Strict().DecodeString(s)
	if err != nil {
		return nil, errors.New("key is not valid base64")
	}
	if len(key) != KeySize {
		return nil, fmt.Errorf("key decodes to %d bytes, want %d", len(key), KeySize)
	}
	return key, nil
}

// EncodeKey renders key as standard base64, the form ParseKeys and
// ParseIndexKey read.
func EncodeKey(key []byte) string { return base64.StdEncoding.EncodeToString(key) }
