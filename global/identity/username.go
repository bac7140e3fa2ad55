package identity

import (
	"crypto/rand"
	"regexp"
	"strings"
)

// Usernames are 3–24 characters of letters, digits, '_', '.', '-', starting
// with a letter or digit: safe to show anywhere and to put in a URL.
var usernamePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{2,23}$`)

// reservedPrefixes are minted by the server (guests, OIDC players, tombstones).
var reservedPrefixes = []string{"guest_", "player_", "deleted-"}

func normalizeUsername(u string) string { return strings.ToLower(strings.TrimSpace(u)) }

func validUsername(u string) bool {
	if !usernamePattern.MatchString(u) {
		return false
	}
	n := normalizeUsername(u)
	for _, p := range reservedPrefixes {
		if strings.HasPrefix(n, p) {
			return false
		}
	}
	return true
}

// generatedUsername mints a name for players created without one.
func generatedUsername(prefix string) string {
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	var b [12]byte
	_, _ = rand.Read(b[:])
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return prefix + string(b[:])
}
