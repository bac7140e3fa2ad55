package contract

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSealAddr(t *testing.T) {
	key := make([]byte, ForwardKeySize)
	other := make([]byte, ForwardKeySize)
	other[0] = 1
	sealed, err := SealAddr(key, "s-1", "10.0.0.7:7701")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(sealed, "10.0.0.7") {
		t.Fatal("the address is readable in the sealed form")
	}
	if got, err := OpenAddr(key, "s-1", sealed); err != nil || got != "10.0.0.7:7701" {
		t.Fatalf("OpenAddr = %q, %v", got, err)
	}
	tests := []struct {
		name, session, sealed string
		key                   []byte
	}{
		{"other session", "s-2", sealed, key},
		{"other key", "s-1", sealed, other},
		{"tampered", "s-1", sealed[:len(sealed)-2] + "AA", key},
		{"not base64", "s-1", "!!!", key},
		{"short", "s-1", "AAAA", key},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := OpenAddr(tt.key, tt.session, tt.sealed); !errors.Is(err, ErrSealedAddr) {
				t.Fatalf("err = %v, want ErrSealedAddr", err)
			}
		})
	}
}

func TestReadForwardKey(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	if k, err := ReadForwardKey(write("good", strings.Repeat("ab", ForwardKeySize)+"\n")); err != nil || len(k) != ForwardKeySize {
		t.Fatalf("good key: %v", err)
	}
	for name, content := range map[string]string{"short": "abcd", "not hex": strings.Repeat("zz", ForwardKeySize), "huge": strings.Repeat("a", 1000)} {
		if _, err := ReadForwardKey(write(name, content)); err == nil {
			t.Errorf("%s key accepted", name)
		}
	}
}

func FuzzOpenAddr(f *testing.F) {
	key := make([]byte, ForwardKeySize)
	s, _ := SealAddr(key, "s", "1.2.3.4:5")
	f.Add("s", s)
	f.Fuzz(func(t *testing.T, session, sealed string) {
		_, _ = OpenAddr(key, session, sealed)
	})
}
