package pii

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
)

// Sealed format and limits.
const (
	// sealVersion prefixes every sealed value so the format can change
	// without guessing.
	sealVersion = "v1"
	// MaxPlaintextLen is 64 KiB: personal data fields (emails, names,
	// addresses) are small, and a bound keeps Open's work bounded too.
	MaxPlaintextLen = 64 * 1024
	// nonceSize is GCM's standard 96-bit nonce. Random nonces are safe for
	// about 2^32 seals per key, far beyond one key's lifetime between
	// rotations of a player table.
	nonceSize = 12
	// tagSize is GCM's 128-bit authentication tag.
	tagSize = 16
	// maxSealedLen is the longest well-formed sealed value.
	maxSealedLen = len(sealVersion) + 1 + maxKeyIDLen + 1 + (nonceSize+MaxPlaintextLen+tagSize+2)/3*4
)

// Errors wrapped by Open.
var (
	// ErrMalformed: the value is not a sealed value of a known version.
	ErrMalformed = errors.New("malformed sealed value")
	// ErrUnknownKey: the value names a key id the keyring does not hold.
	ErrUnknownKey = errors.New("sealed with an unknown key")
	// ErrDecrypt: authentication failed: tampered data, wrong key material
	// under a known id, or aad other than the one sealed with.
	ErrDecrypt = errors.New("sealed value does not authenticate")
)

// ErrTooLarge is returned by Seal for plaintext over MaxPlaintextLen.
var ErrTooLarge = fmt.Errorf("plaintext longer than %d bytes", MaxPlaintextLen)

var b64 = base64.RawURLEncoding.Strict()

// Seal encrypts plaintext under the active key and returns
// "v1.<kid>.<base64url(nonce||ciphertext)>". aad is authenticated but not
// stored: pass what the value belongs to (such as the player id), and Open
// must be given the same, so a sealed value copied into another row fails
// to open.
func (kr *Keyring) Seal(plaintext, aad []byte) (string, error) {
	if len(plaintext) > MaxPlaintextLen {
		return "", fmt.Errorf("seal: %w", ErrTooLarge)
	}
	header := sealVersion + "." + kr.active + "."
	buf := make([]byte, nonceSize, nonceSize+len(plaintext)+tagSize)
	if _, err := rand.Read(buf); err != nil {
		return "", fmt.Errorf("seal: nonce: %w", err)
	}
	buf = kr.aeads[kr.active].Seal(buf, buf[:nonceSize], plaintext, additionalData(header, aad))
	return header + b64.EncodeToString(buf), nil
}

// Open decrypts a value made by Seal with any key in the keyring, given the
// aad it was sealed with. Errors wrap ErrMalformed, ErrUnknownKey or
// ErrDecrypt and never include the value or key material.
func (kr *Keyring) Open(sealed string, aad []byte) ([]byte, error) {
	kid, body, err := splitSealed(sealed)
	if err != nil {
		return nil, fmt.Errorf("open: %w", err)
	}
	aead, ok := kr.aeads[kid]
	if !ok {
		return nil, fmt.Errorf("open: key %q: %w", kid, ErrUnknownKey)
	}
	raw, err := b64.DecodeString(body)
	if err != nil {
		return nil, fmt.Errorf("open: %w: body is not base64url", ErrMalformed)
	}
	if len(raw) < nonceSize+tagSize {
		return nil, fmt.Errorf("open: %w: body too short", ErrMalformed)
	}
	header := sealed[:len(sealed)-len(body)]
	plaintext, err := aead.Open(nil, raw[:nonceSize], raw[nonceSize:], additionalData(header, aad))
	if err != nil {
		return nil, fmt.Errorf("open: key %q: %w", kid, ErrDecrypt)
	}
	return plaintext, nil
}

// NeedsReseal reports whether sealed names a key other than the active one,
// so the rotation job should re-encrypt it (see Reseal). Malformed values
// report false: resealing cannot repair them, and Open reports why.
func (kr *Keyring) NeedsReseal(sealed string) bool {
	kid, _, err := splitSealed(sealed)
	return err == nil && kid != kr.active
}

// Reseal returns sealed re-encrypted under the active key, and whether it
// changed; a value already under the active key is returned as is, without
// being opened. It is
// the rotation path: open with the old key, seal with the new one, same aad.
func (kr *Keyring) Reseal(sealed string, aad []byte) (string, bool, error) {
	if !kr.NeedsReseal(sealed) {
		if _, _, err := splitSealed(sealed); err != nil {
			return "", false, fmt.Errorf("reseal: %w", err)
		}
		return sealed, false, nil
	}
	plaintext, err := kr.Open(sealed, aad)
	if err != nil {
		return "", false, fmt.Errorf("reseal: %w", err)
	}
	resealed, err := kr.Seal(plaintext, aad)
	if err != nil {
		return "", false, fmt.Errorf("reseal: %w", err)
	}
	return resealed, true, nil
}

// splitSealed checks the version and returns the key id and body.
func splitSealed(sealed string) (kid, body string, err error) {
	if len(sealed) > maxSealedLen {
		return "", "", fmt.Errorf("%w: longer than %d bytes", ErrMalformed, maxSealedLen)
	}
	rest, ok := strings.CutPrefix(sealed, sealVersion+".")
	if !ok {
		return "", "", fmt.Errorf("%w: unknown version", ErrMalformed)
	}
	kid, body, ok = strings.Cut(rest, ".")
	if !ok {
		return "", "", fmt.Errorf("%w: want v1.<kid>.<body>", ErrMalformed)
	}
	if checkKeyID(kid) != nil {
		return "", "", fmt.Errorf("%w: bad key id", ErrMalformed)
	}
	return kid, body, nil
}

// additionalData authenticates the header along with the caller's aad, so
// neither the version nor the key id can be edited. The header ends in '.',
// which no key id contains, so header||aad is unambiguous.
func additionalData(header string, aad []byte) []byte {
	ad := make([]byte, 0, len(header)+len(aad))
	ad = append(ad, header...)
	return append(ad, aad...)
}
