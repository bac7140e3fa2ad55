package password

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Policy defaults and bounds.
const (
	// DefaultMinLength is 10 runes: above NIST SP 800-63B's floor of 8,
	// as players choose their own passwords and there is no second factor.
	DefaultMinLength = 10
	// DefaultMaxLength is 256 runes: passphrases fit, and a cap bounds the
	// hashing input an attacker controls.
	DefaultMaxLength = 256
	// maxPolicyLength keeps MaxLength runes within MaxPasswordBytes even if
	// every rune takes 4 bytes, so a policy-valid password always hashes.
	maxPolicyLength = MaxPasswordBytes / utf8.UTFMax
)

// Policy is what a new password must satisfy.
type Policy struct {
	// MinLength is the minimum length in runes; zero means DefaultMinLength.
	MinLength int
	// MaxLength is the maximum length in runes; zero means DefaultMaxLength.
	MaxLength int
}

// Reason is a stable machine-readable cause of a PolicyError.
type Reason string

// Reasons a password is refused.
const (
	ReasonTooShort        Reason = "too_short"
	ReasonTooLong         Reason = "too_long"
	ReasonInvalidEncoding Reason = "invalid_encoding"
	ReasonMatchesIdentity Reason = "matches_identity"
)

// PolicyError says why a password was refused. Message is written for the
// player and never contains the password.
type PolicyError struct {
	Reason  Reason
	Message string
}

func (e *PolicyError) Error() string { return "password policy: " + e.Message }

// Validate reports whether p's bounds are usable.
func (p Policy) Validate() error {
	lo, hi := p.bounds()
	switch {
	case lo < 1:
		return fmt.Errorf("password policy: MinLength %d, want at least 1", p.MinLength)
	case hi > maxPolicyLength:
		return fmt.Errorf("password policy: MaxLength %d exceeds %d", p.MaxLength, maxPolicyLength)
	case lo > hi:
		return fmt.Errorf("password policy: MinLength %d exceeds MaxLength %d", lo, hi)
	}
	return nil
}

func (p Policy) bounds() (lo, hi int) {
	lo, hi = p.MinLength, p.MaxLength
	if lo == 0 {
		lo = DefaultMinLength
	}
	if hi == 0 {
		hi = DefaultMaxLength
	}
	return lo, hi
}

// Check returns a *PolicyError when password is too short, too long, not
// UTF-8, or equal (ignoring case and surrounding space) to username, email
// or email's local part. Empty username or email are not compared. A
// Policy that fails Validate yields that error instead.
func (p Policy) Check(password, username, email string) error {
	if err := p.Validate(); err != nil {
		return err
	}
	lo, hi := p.bounds()
	if !utf8.ValidString(password) {
		return &PolicyError{Reason: ReasonInvalidEncoding, Message: "Password contains invalid characters."}
	}
	n := utf8.RuneCountInString(password)
	if n < lo {
		return &PolicyError{Reason: ReasonTooShort, Message: fmt.Sprintf("Password must be at least %d characters long.", lo)}
	}
	if n > hi {
		return &PolicyError{Reason: ReasonTooLong, Message: fmt.Sprintf("Password must be at most %d characters long.", hi)}
	}
	pw := strings.TrimSpace(password)
	identities := []string{username, email}
	if at := strings.LastIndexByte(email, '@'); at >= 0 {
		identities = append(identities, email[:at])
	}
	for _, id := range identities {
		if id = strings.TrimSpace(id); id != "" && strings.EqualFold(pw, id) {
			return &PolicyError{Reason: ReasonMatchesIdentity, Message: "Password must not be your username or email address."}
		}
	}
	return nil
}
