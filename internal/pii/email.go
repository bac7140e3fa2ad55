package pii

import (
	"errors"
	"net/mail"
	"strings"
	"unicode/utf8"
)

// Email limits.
const (
	// MaxEmailLen is RFC 5321's 254-byte limit on a forward path's address.
	MaxEmailLen = 254
	// maxLocalLen is RFC 5321's 64-byte limit on the local part.
	maxLocalLen = 64
)

// ErrInvalidEmail is returned by NormalizeEmail; it never includes the
// address, which is itself personal data.
var ErrInvalidEmail = errors.New("invalid email address")

// NormalizeEmail trims and lowercases s and checks it is a bare address
// (local@domain, no display name, angle brackets, quoting or domain
// literal; a dot in the domain) of at most MaxEmailLen bytes, in UTF-8. Lowercasing the local part is technically lossy, but
// no mail provider players use distinguishes case there, and one account
// per mailbox is the point of the index.
func NormalizeEmail(s string) (string, error) {
	// Check UTF-8 before lowercasing, which would turn invalid bytes into
	// U+FFFD and accept them.
	if !utf8.ValidString(s) {
		return "", ErrInvalidEmail
	}
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "" || len(s) > MaxEmailLen {
		return "", ErrInvalidEmail
	}
	addr, err := mail.ParseAddress(s)
	if err != nil || addr.Name != "" || addr.Address != s {
		// A differing Address means s had a display name, brackets,
		// comments or quoting: not something a player means as a bare
		// address.
		return "", ErrInvalidEmail
	}
	at := strings.LastIndexByte(s, '@')
	if at < 1 || at > maxLocalLen {
		return "", ErrInvalidEmail
	}
	// Players' mailboxes live under registered domains: "user@localhost"
	// and "user@[10.0.0.1]" are typos or probes, not accounts.
	if domain := s[at+1:]; !strings.Contains(domain, ".") || strings.ContainsAny(domain, "[]") {
		return "", ErrInvalidEmail
	}
	return s, nil
}
