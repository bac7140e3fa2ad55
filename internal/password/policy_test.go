package password

import (
	"errors"
	"strings"
	"testing"
)

func TestPolicyCheck(t *testing.T) {
	const user, email = "Skipper", "Sea.Dog@example.com"
	tests := []struct {
		name     string
		policy   Policy
		password string
		want     Reason // "" means accepted
	}{
		{"ok", Policy{}, "tide pools at dawn", ""},
		{"exactly min", Policy{}, "abcdefghij", ""},
		{"one short", Policy{}, "abcdefghi", ReasonTooShort},
		{"empty", Policy{}, "", ReasonTooShort},
		{"runes not bytes short", Policy{}, "ééééééééé", ReasonTooShort}, // 9 runes, 18 bytes
		{"runes not bytes ok", Policy{}, "éééééééééé", ""},
		{"exactly max", Policy{}, strings.Repeat("a", DefaultMaxLength), ""},
		{"one long", Policy{}, strings.Repeat("a", DefaultMaxLength+1), ReasonTooLong},
		{"multibyte max", Policy{}, strings.Repeat("🐚", DefaultMaxLength), ""},
		{"custom min", Policy{MinLength: 4}, "abcd", ""},
		{"custom max", Policy{MaxLength: 12}, "abcdefghijklm", ReasonTooLong},
		{"invalid utf-8", Policy{}, "abcdefghij\xff", ReasonInvalidEncoding},
		{"equals username", Policy{MinLength: 4}, "skipper", ReasonMatchesIdentity},
		{"equals username padded", Policy{MinLength: 4}, "  SKIPPER\t", ReasonMatchesIdentity},
		{"equals email", Policy{}, "sea.dog@EXAMPLE.com", ReasonMatchesIdentity},
		{"equals email local part", Policy{MinLength: 4}, "sea.dog", ReasonMatchesIdentity},
		{"contains username is fine", Policy{}, "skipper of the atoll", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.policy.Check(tt.password, user, email)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("Check() = %v, want nil", err)
				}
				return
			}
			pe, ok := errors.AsType[*PolicyError](err)
			if !ok {
				t.Fatalf("Check() = %v, want *PolicyError", err)
			}
			if pe.Reason != tt.want {
				t.Fatalf("Check() reason = %q, want %q", pe.Reason, tt.want)
			}
			if pe.Message == "" {
				t.Fatal("PolicyError has no user-facing message")
			}
			if len(tt.password) >= 4 && strings.Contains(strings.ToLower(pe.Error()), strings.ToLower(strings.TrimSpace(tt.password))) {
				t.Fatalf("error %q echoes the password", pe.Error())
			}
		})
	}
}

func TestPolicyEmptyIdentities(t *testing.T) {
	// Missing username or email must not make every password "match".
	if err := (Policy{}).Check("tide pools at dawn", "", ""); err != nil {
		t.Fatalf("Check(no identities) = %v", err)
	}
	if err := (Policy{}).Check("tide pools at dawn", "  ", "@example.com"); err != nil {
		t.Fatalf("Check(blank identities) = %v", err)
	}
}

func TestPolicyValidate(t *testing.T) {
	tests := []struct {
		policy Policy
		valid  bool
	}{
		{Policy{}, true},
		{Policy{MinLength: 8, MaxLength: 64}, true},
		{Policy{MaxLength: maxPolicyLength}, true},
		{Policy{MaxLength: maxPolicyLength + 1}, false},
		{Policy{MinLength: -1}, false},
		{Policy{MinLength: 20, MaxLength: 10}, false},
	}
	for _, tt := range tests {
		err := tt.policy.Validate()
		if (err == nil) != tt.valid {
			t.Errorf("%+v.Validate() = %v, want valid=%v", tt.policy, err, tt.valid)
		}
		if !tt.valid {
			if err := tt.policy.Check("tide pools at dawn", "", ""); err == nil {
				t.Errorf("%+v.Check() = nil for an invalid policy", tt.policy)
			}
		}
	}
}

// A password at the policy's largest MaxLength always fits the hasher.
func TestPolicyMaxFitsHasher(t *testing.T) {
	pw := strings.Repeat("🐚", maxPolicyLength)
	if err := (Policy{MaxLength: maxPolicyLength}).Check(pw, "", ""); err != nil {
		t.Fatalf("Check() = %v", err)
	}
	if len(pw) > MaxPasswordBytes {
		t.Fatalf("%d bytes exceed MaxPasswordBytes %d", len(pw), MaxPasswordBytes)
	}
}
