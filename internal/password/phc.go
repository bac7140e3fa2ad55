package password

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
)

// maxEncodedLen bounds a stored hash before any parsing. The longest string
// this package can produce (64-byte salt and tag, largest parameters) is
// under 230 bytes.
const maxEncodedLen = 256

// ErrMalformedHash is wrapped by every error about a stored hash that does
// not parse as an argon2id PHC string within this package's bounds.
var ErrMalformedHash = errors.New("malformed argon2id hash")

// b64 is the PHC string format's base64: standard alphabet, no padding.
// Strict rejects non-canonical trailing bits, so one hash has one spelling.
var b64 = base64.RawStdEncoding.Strict()

// phcHash is a decoded PHC string.
type phcHash struct {
	params Params
	salt   []byte
	key    []byte
}

// encode renders h as $argon2id$v=19$m=...,t=...,p=...$salt$hash.
func (h phcHash) encode() string {
	var b strings.Builder
	b.Grow(maxEncodedLen)
	b.WriteString("$argon2id$v=")
	b.WriteString(strconv.Itoa(argon2.Version))
	b.WriteString("$m=")
	b.WriteString(strconv.FormatUint(uint64(h.params.Memory), 10))
	b.WriteString(",t=")
	b.WriteString(strconv.FormatUint(uint64(h.params.Iterations), 10))
	b.WriteString(",p=")
	b.WriteString(strconv.FormatUint(uint64(h.params.Parallelism), 10))
	b.WriteByte('$')
	b.WriteString(b64.EncodeToString(h.salt))
	b.WriteByte('$')
	b.WriteString(b64.EncodeToString(h.key))
	return b.String()
}

// decode parses an encoded hash and checks its parameters against the
// package bounds. Errors never include the encoded value: it is a secret.
func decode(encoded string) (phcHash, error) {
	if len(encoded) > maxEncodedLen {
		return phcHash{}, fmt.Errorf("%w: longer than %d bytes", ErrMalformedHash, maxEncodedLen)
	}
	// "", "argon2id", "v=19", "m=..,t=..,p=..", salt, hash
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[0] != "" {
		return phcHash{}, fmt.Errorf("%w: want 5 $-separated fields", ErrMalformedHash)
	}
	if parts[1] != "argon2id" {
		return phcHash{}, fmt.Errorf("%w: algorithm is not argon2id", ErrMalformedHash)
	}
	if parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return phcHash{}, fmt.Errorf("%w: unsupported version field", ErrMalformedHash)
	}
	var p Params
	fields := strings.Split(parts[3], ",")
	if len(fields) != 3 {
		return phcHash{}, fmt.Errorf("%w: want parameters m,t,p", ErrMalformedHash)
	}
	m, err := parseParam(fields[0], "m", 32)
	if err != nil {
		return phcHash{}, err
	}
	t, err := parseParam(fields[1], "t", 32)
	if err != nil {
		return phcHash{}, err
	}
	par, err := parseParam(fields[2], "p", 8)
	if err != nil {
		return phcHash{}, err
	}
	p.Memory, p.Iterations, p.Parallelism = uint32(m), uint32(t), uint8(par)

	// Check lengths before decoding so an oversized field allocates nothing.
	if n := b64.DecodedLen(len(parts[4])); n < minStoredSaltLen || n > MaxSaltLen {
		return phcHash{}, fmt.Errorf("%w: salt length outside [%d, %d]", ErrMalformedHash, minStoredSaltLen, MaxSaltLen)
	}
	salt, err := b64.DecodeString(parts[4])
	if err != nil {
		return phcHash{}, fmt.Errorf("%w: salt is not base64", ErrMalformedHash)
	}
	if n := b64.DecodedLen(len(parts[5])); n < MinKeyLen || n > MaxKeyLen {
		return phcHash{}, fmt.Errorf("%w: hash length outside [%d, %d]", ErrMalformedHash, MinKeyLen, MaxKeyLen)
	}
	key, err := b64.DecodeString(parts[5])
	if err != nil {
		return phcHash{}, fmt.Errorf("%w: hash is not base64", ErrMalformedHash)
	}
	p.SaltLen, p.KeyLen = uint32(len(salt)), uint32(len(key))
	if err := p.validate(minStoredSaltLen); err != nil {
		return phcHash{}, fmt.Errorf("%w: %w", ErrMalformedHash, err)
	}
	return phcHash{params: p, salt: salt, key: key}, nil
}

// parseParam parses "name=decimal" with the value fitting in bits.
func parseParam(field, name string, bits int) (uint64, error) {
	v, ok := strings.CutPrefix(field, name+"=")
	if !ok {
		return 0, fmt.Errorf("%w: want parameter %s", ErrMalformedHash, name)
	}
	n, err := strconv.ParseUint(v, 10, bits)
	if err != nil {
		return 0, fmt.Errorf("%w: parameter %s is not a %d-bit number", ErrMalformedHash, name, bits)
	}
	return n, nil
}
