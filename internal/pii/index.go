package pii

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
)

// IndexKey computes blind indexes: a keyed hash of a normalized value that
// can be stored in a unique, indexed column and looked up by equality
// without storing the value in the clear, and without letting someone with
// the database alone confirm a guessed email by hashing it. It is a key
// separate from the encryption keys and cannot be rotated in place: every
// index would have to be recomputed from the decrypted values.
type IndexKey struct {
	key []byte
}

// ParseIndexKey parses a 32-byte key in standard or URL base64, padded or
// not. Errors wrap ErrInvalidKeys and never include key material.
func ParseIndexKey(s string) (*IndexKey, error) {
	key, err := decodeKey(s)
	if err != nil {
		return nil, fmt.Errorf("%w: index key: %w", ErrInvalidKeys, err)
	}
	return &IndexKey{key: key}, nil
}

// Index returns the blind index of normalized as unpadded base64url of
// HMAC-SHA256 (43 characters). Normalize first (see NormalizeEmail): the
// index of two spellings of one address differs. It is safe for concurrent
// use.
func (k *IndexKey) Index(normalized string) string {
	mac := hmac.New(sha256.New, k.key)
	mac.Write([]byte(normalized))
	return base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

// Derive returns a 32-byte key for another purpose, named by label, from
// this one: HMAC-SHA256 of the label, so keys derived under different labels
// are independent and none reveals the index key. A service that needs a
// secret every replica shares (the index key must be shared for lookups to
// work) derives it here instead of adding a key to configure; like the index
// key, a derived key changes only if the index key does.
func (k *IndexKey) Derive(label string) []byte {
	mac := hmac.New(sha256.New, k.key)
	mac.Write([]byte("atoll derived key: " + label))
	return mac.Sum(nil)
}
