package pii

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestIndex(t *testing.T) {
	// Key 00 01 .. 1f; expected value computed independently (Python hmac).
	k, err := ParseIndexKey("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=")
	if err != nil {
		t.Fatal(err)
	}
	const want = "cFfVdP_42afDkoP8LVyQ4IPMxjI0QYR05Trvo5Roseo"
	if got := k.Index("sea.dog@example.com"); got != want {
		t.Fatalf("Index() = %q, want %q", got, want)
	}
	if k.Index("sea.dog@example.com") != k.Index("sea.dog@example.com") {
		t.Fatal("Index() is not deterministic")
	}
	if k.Index("sea.dog@example.com") == k.Index("sea.dog@example.org") {
		t.Fatal("different values share an index")
	}
	other, err := ParseIndexKey(EncodeKey(testKey(9)))
	if err != nil {
		t.Fatal(err)
	}
	if other.Index("sea.dog@example.com") == want {
		t.Fatal("different keys give the same index")
	}
}

func TestParseIndexKeyRejects(t *testing.T) {
	for _, s := range []string{"", "not base64!", EncodeKey(testKey(1)[:31]), EncodeKey(append(testKey(1), 1)), strings.Repeat("A", 1<<20)} {
		if _, err := ParseIndexKey(s); !errors.Is(err, ErrInvalidKeys) {
			t.Errorf("ParseIndexKey(%q) = %v, want ErrInvalidKeys", s, err)
		}
	}
}

func TestDerive(t *testing.T) {
	k, err := ParseIndexKey("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=")
	if err != nil {
		t.Fatal(err)
	}
	// Expected value computed independently (Python hmac).
	if got := fmt.Sprintf("%x", k.Derive("a label")); got != "8560c8676e3da754ea42b77b153d30466a2fb3b8dbda96784bb48661da1781fa" {
		t.Fatalf("Derive() = %s", got)
	}
	if string(k.Derive("a label")) == string(k.Derive("another label")) {
		t.Fatal("two labels derive one key")
	}
	other, err := ParseIndexKey("AQECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=")
	if err != nil {
		t.Fatal(err)
	}
	if string(other.Derive("a label")) == string(k.Derive("a label")) {
		t.Fatal("two index keys derive one key")
	}
}
