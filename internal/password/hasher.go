package password

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"fmt"

	"golang.org/x/crypto/argon2"
)

// MaxPasswordBytes bounds what Hash accepts and Verify considers. Argon2's
// cost barely depends on password length, but an unbounded input is still a
// free allocation for an attacker; 4096 bytes holds Policy's largest allowed
// MaxLength (1024 runes) even in 4-byte UTF-8.
const MaxPasswordBytes = 4096

// Errors returned by Hash.
var (
	ErrEmptyPassword   = errors.New("password is empty")
	ErrPasswordTooLong = fmt.Errorf("password is longer than %d bytes", MaxPasswordBytes)
)

// Hasher hashes and verifies passwords with argon2id under a bound on how
// many run at once. It is safe for concurrent use.
type Hasher struct {
	params Params
	// sem holds one token per running hash: argon2 allocates Params.Memory
	// per call, so a login flood without this bound could allocate
	// memory×requests and take the process down.
	sem chan struct{}
	// dummy is an encoded hash under params that matches no password, so
	// VerifyDummy does exactly the work of Verify against a current hash.
	dummy string
}

// New returns a Hasher producing hashes with p and running at most
// maxConcurrent argon2 computations at a time (peak memory is about
// p.Memory × maxConcurrent; callers past the bound wait for a slot).
func New(p Params, maxConcurrent int) (*Hasher, error) {
	if err := p.Validate(); err != nil {
		return nil, fmt.Errorf("new password hasher: %w", err)
	}
	if maxConcurrent < 1 {
		return nil, fmt.Errorf("new password hasher: maxConcurrent %d, want at least 1", maxConcurrent)
	}
	// A random tag of the right length: deriving any password to it is a
	// 2^-128 event at worst, and no argon2 work is spent building it.
	salt := make([]byte, p.SaltLen)
	key := make([]byte, p.KeyLen)
	if _, err := rand.Read(salt); err != nil {
		return nil, fmt.Errorf("new password hasher: dummy salt: %w", err)
	}
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("new password hasher: dummy key: %w", err)
	}
	return &Hasher{
		params: p,
		sem:    make(chan struct{}, maxConcurrent),
		dummy:  phcHash{params: p, salt: salt, key: key}.encode(),
	}, nil
}

// Params returns the parameters new hashes are made with.
func (h *Hasher) Params() Params { return h.params }

// Hash returns the PHC string of password under a fresh random salt. It
// waits for a concurrency slot and gives up with ctx's error when ctx ends
// first.
func (h *Hasher) Hash(ctx context.Context, password string) (string, error) {
	switch {
	case password == "":
		return "", fmt.Errorf("hash password: %w", ErrEmptyPassword)
	case len(password) > MaxPasswordBytes:
		return "", fmt.Errorf("hash password: %w", ErrPasswordTooLong)
	}
	salt := make([]byte, h.params.SaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("hash password: salt: %w", err)
	}
	ph := phcHash{params: h.params, salt: salt}
	key, err := h.derive(ctx, password, ph)
	if err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	ph.key = key
	return ph.encode(), nil
}

// Verify reports whether password matches encoded, a string made by Hash
// (possibly under older parameters, which are read from encoded).
// needsRehash is true when ok and encoded's parameters differ from the
// Hasher's: the caller should store a fresh Hash of the password it just
// verified. err is non-nil only for a malformed encoded (wrapping
// ErrMalformedHash) or an ended ctx; a wrong password is ok=false, err=nil.
// A password longer than MaxPasswordBytes is ok=false without hashing:
// Hash never accepted one, so it cannot match.
func (h *Hasher) Verify(ctx context.Context, password, encoded string) (ok, needsRehash bool, err error) {
	ph, err := decode(encoded)
	if err != nil {
		return false, false, fmt.Errorf("verify password: %w", err)
	}
	if len(password) > MaxPasswordBytes {
		return false, false, nil
	}
	key, err := h.derive(ctx, password, ph)
	if err != nil {
		return false, false, fmt.Errorf("verify password: %w", err)
	}
	if subtle.ConstantTimeCompare(key, ph.key) != 1 {
		return false, false, nil
	}
	return true, ph.params != h.params, nil
}

// VerifyDummy does the work of Verify against a hash under the Hasher's
// parameters that no password matches. Call it when the account does not
// exist so that "unknown user" and "wrong password" take the same time and
// the same concurrency slot. It returns only ctx's error.
func (h *Hasher) VerifyDummy(ctx context.Context, password string) error {
	_, _, err := h.Verify(ctx, password, h.dummy)
	return err
}

// derive runs argon2id for password with ph's parameters and salt, inside
// a concurrency slot.
func (h *Hasher) derive(ctx context.Context, password string, ph phcHash) ([]byte, error) {
	// A done ctx must not win a free slot: select picks at random among
	// ready cases.
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	select {
	case h.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-h.sem }()
	p := ph.params
	return argon2.IDKey([]byte(password), ph.salt, p.Iterations, p.Memory, p.Parallelism, p.KeyLen), nil
}
