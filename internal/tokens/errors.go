package tokens

import (
	"errors"
	"fmt"
)

// Verification errors. Every refusal of a token by a Verifier wraps exactly
// one of these, so an HTTP layer can map it to a status and a stable code with
// errors.Is without showing the caller why a token was refused:
//
//	ErrExpired         → 401, the client should refresh its token
//	ErrInvalid         → 401, the token will never be accepted
//	ErrKeysUnavailable → 503, the fault is ours (no verification keys yet)
var (
	// ErrInvalid means the token is malformed, forged, or not meant for us.
	ErrInvalid = errors.New("tokens: invalid token")
	// ErrExpired means the token was genuine and valid but its lifetime ended.
	ErrExpired = errors.New("tokens: token expired")
	// ErrKeysUnavailable means no verification keys are known at all, e.g. a
	// cell that has never reached the global core and has no disk cache.
	ErrKeysUnavailable = errors.New("tokens: verification keys unavailable")
)

// ErrUnknownKey is returned by a KeySource that does not hold the asked key
// id. A Verifier reports it as ErrInvalid.
var ErrUnknownKey = errors.New("tokens: unknown key id")

// invalid wraps ErrInvalid with a fixed reason. Reasons never quote the
// token, so the message is safe to log.
func invalid(reason string) error {
	return fmt.Errorf("%w: %s", ErrInvalid, reason)
}
