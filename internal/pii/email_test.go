package pii

import (
	"errors"
	"strings"
	"testing"
)

func TestNormalizeEmail(t *testing.T) {
	tests := []struct {
		in, want string // want "" means invalid
	}{
		{"sea.dog@example.com", "sea.dog@example.com"},
		{"  Sea.Dog@Example.COM \n", "sea.dog@example.com"},
		{"a+tag@sub.example.co.uk", "a+tag@sub.example.co.uk"},
		{"Ünïcode@example.com", "ünïcode@example.com"},
		{strings.Repeat("a", 64) + "@example.com", strings.Repeat("a", 64) + "@example.com"},
		{"a@" + strings.Repeat("b", 248) + ".com", "a@" + strings.Repeat("b", 248) + ".com"}, // 254 bytes
		{"", ""},
		{"   ", ""},
		{"plainaddress", ""},
		{"@example.com", ""},
		{"a@", ""},
		{"a@@example.com", ""},
		{"a@localhost", ""},
		{"a@[10.0.0.1]", ""},
		{"a..b@example.com", ""},
		{"a.@example.com", ""},
		{"a@example.com.", ""},
		{"Sea Dog <sea.dog@example.com>", ""},
		{"<sea.dog@example.com>", ""},
		{"sea.dog@example.com (Sea Dog)", ""},
		{`"sea dog"@example.com`, ""},
		{`"seadog"@example.com`, ""},
		{"a@b.com, c@d.com", ""},
		{"a\x00@example.com", ""},
		{"a\xff@example.com", ""},
		{"a\r\nBcc: x@example.com", ""},
		{strings.Repeat("a", 65) + "@example.com", ""},
		{"a@" + strings.Repeat("b", 249) + ".com", ""}, // 255 bytes
	}
	for _, tt := range tests {
		got, err := NormalizeEmail(tt.in)
		if tt.want == "" {
			if !errors.Is(err, ErrInvalidEmail) {
				t.Errorf("NormalizeEmail(%.40q) = %q, %v; want ErrInvalidEmail", tt.in, got, err)
			} else if strings.Contains(err.Error(), "@") {
				t.Errorf("error %q echoes the address", err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("NormalizeEmail(%.40q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func FuzzNormalizeEmail(f *testing.F) {
	for _, s := range []string{"sea.dog@example.com", "Bob <a@b.co>", `"x y"@z.io`, "a@[1.2.3.4]"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := NormalizeEmail(s)
		if err != nil {
			return
		}
		if len(got) > MaxEmailLen || got != strings.ToLower(got) {
			t.Fatalf("NormalizeEmail(%q) = %q", s, got)
		}
		// Normalising is idempotent, so one mailbox has one index.
		if again, err := NormalizeEmail(got); err != nil || again != got {
			t.Fatalf("NormalizeEmail(%q) = %q, %v; want %q", got, again, err, got)
		}
	})
}
