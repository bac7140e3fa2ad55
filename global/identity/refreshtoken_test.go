package identity

import (
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
)

func testClaims() refreshClaims {
	now := time.Unix(1_800_000_000, 0)
	return refreshClaims{family: uuid.New(), player: uuid.New(), generation: 7,
		expires: now.Add(DefaultRefreshTTL), familyExpires: now.Add(DefaultRefreshFamilyTTL)}
}

func TestRefreshTokenRoundTrip(t *testing.T) {
	s := newRefreshSigner([]byte("0123456789abcdef0123456789abcdef"))
	c := testClaims()
	tok := s.mint(c)
	if !validRefreshToken(tok) || len(tok) != refreshTokenLen {
		t.Fatalf("token %q (len %d) fails the request check", tok, len(tok))
	}
	got, err := s.parse(tok)
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	if got.family != c.family || got.player != c.player || got.generation != c.generation ||
		!got.expires.Equal(c.expires) || !got.familyExpires.Equal(c.familyExpires) {
		t.Fatalf("parsed %+v, minted %+v", got, c)
	}
}

// Every altered token fails: each character changed, a token under another
// key, other versions, truncations and extensions.
func TestRefreshTokenRejects(t *testing.T) {
	s := newRefreshSigner([]byte("0123456789abcdef0123456789abcdef"))
	tok := s.mint(testClaims())
	for i := len(refreshPrefix); i < len(tok); i++ {
		b := []byte(tok)
		if b[i] == 'A' {
			b[i] = 'B'
		} else {
			b[i] = 'A'
		}
		if _, err := s.parse(string(b)); err == nil {
			t.Fatalf("token altered at %d accepted", i)
		}
	}
	other := newRefreshSigner([]byte("another key, another key, anothe"))
	raw := []byte(other.mint(testClaims()))
	cases := map[string]string{
		"other key":     string(raw),
		"truncated":     tok[:len(tok)-1],
		"extended":      tok + "A",
		"no prefix":     strings.TrimPrefix(tok, refreshPrefix) + "AAAA",
		"legacy opaque": refreshPrefix + strings.Repeat("A", 43),
		"empty":         "",
	}
	for name, bad := range cases {
		if _, err := s.parse(bad); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestRefreshClaimsLive(t *testing.T) {
	c := testClaims()
	for _, tc := range []struct {
		name string
		at   time.Time
		want bool
	}{
		{"fresh", c.expires.Add(-time.Hour), true},
		{"at expiry", c.expires, false},
		{"family over first", c.familyExpires, false},
	} {
		if got := c.live(tc.at); got != tc.want {
			t.Errorf("%s: live = %v, want %v", tc.name, got, tc.want)
		}
	}
	c.familyExpires = c.expires.Add(-time.Minute)
	if c.live(c.expires.Add(-time.Second)) {
		t.Error("live past the family's end")
	}
}

// FuzzRefreshToken feeds arbitrary strings to the refresh-token parser: it
// must reject them without panicking, and whatever it accepts must be what
// the signer minted from the parsed claims.
func FuzzRefreshToken(f *testing.F) {
	s := newRefreshSigner([]byte("0123456789abcdef0123456789abcdef"))
	tok := s.mint(testClaims())
	for _, seed := range []string{tok, tok[:len(tok)-2], "art_", "art_x", refreshPrefix + strings.Repeat("_", refreshTokenLen-len(refreshPrefix)), "\x00"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, in string) {
		c, err := s.parse(in)
		if err != nil {
			return
		}
		if again := s.mint(c); again != in {
			t.Fatalf("accepted %q, which is not the token of its claims %q", in, again)
		}
	})
}
