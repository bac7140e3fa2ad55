package pii

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func TestLoadOrCreate(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "keys")
	ring, index, created, err := LoadOrCreate(dir)
	if err != nil || !created {
		t.Fatalf("LoadOrCreate(new dir) = created %v, %v; want true, nil", created, err)
	}
	st, err := os.Stat(filepath.Join(dir, KeyFileName))
	if err != nil {
		t.Fatal(err)
	}
	if perm := st.Mode().Perm(); perm != 0o600 {
		t.Fatalf("key file permissions %#o, want 0600", perm)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Fatalf("dir holds %d entries, want only %s", len(entries), KeyFileName)
	}
	aad := []byte("player:42")
	s, err := ring.Seal([]byte("sea.dog@example.com"), aad)
	if err != nil {
		t.Fatal(err)
	}

	ring2, index2, created, err := LoadOrCreate(dir)
	if err != nil || created {
		t.Fatalf("LoadOrCreate(existing) = created %v, %v; want false, nil", created, err)
	}
	if got, err := ring2.Open(s, aad); err != nil || string(got) != "sea.dog@example.com" {
		t.Fatalf("reloaded keyring Open() = %q, %v", got, err)
	}
	if index.Index("x") != index2.Index("x") {
		t.Fatal("reloaded index key differs")
	}
	if !strings.HasPrefix(ring.ActiveID(), "dev-") {
		t.Fatalf("ActiveID() = %q, want dev-…", ring.ActiveID())
	}

	// A fresh dir gets fresh keys.
	ring3, _, _, err := LoadOrCreate(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ring3.Open(s, aad); !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("other dev keyring Open() = %v, want ErrUnknownKey", err)
	}
}

func TestLoadOrCreateConcurrent(t *testing.T) {
	dir := t.TempDir()
	const callers = 8
	rings := make([]*Keyring, callers)
	errs := make([]error, callers)
	var createdCount int
	var mu sync.Mutex // guards createdCount
	var wg sync.WaitGroup
	for i := range callers {
		wg.Go(func() {
			var created bool
			rings[i], _, created, errs[i] = LoadOrCreate(dir)
			if created {
				mu.Lock()
				createdCount++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("caller %d: %v", i, err)
		}
		if rings[i].ActiveID() != rings[0].ActiveID() {
			t.Fatalf("callers disagree on the key: %q vs %q", rings[i].ActiveID(), rings[0].ActiveID())
		}
	}
	if createdCount != 1 {
		t.Fatalf("%d callers report created, want 1", createdCount)
	}
}

func TestLoadOrCreateRejects(t *testing.T) {
	const secret = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
	tests := []struct {
		name    string
		content string
		perm    os.FileMode
	}{
		{"readable by others", "keys=k1:" + secret + "\nindex=" + secret + "\n", 0o644},
		{"no index", "keys=k1:" + secret + "\n", 0o600},
		{"no keys", "index=" + secret + "\n", 0o600},
		{"unknown line", "keys=k1:" + secret + "\nindex=" + secret + "\nsecret=" + secret + "\n", 0o600},
		{"keys twice", "keys=k1:" + secret + "\nkeys=k2:" + secret + "\nindex=" + secret + "\n", 0o600},
		{"short key", "keys=k1:" + secret[:20] + "\nindex=" + secret + "\n", 0o600},
		{"too large", strings.Repeat("#", maxKeyFileSize+1), 0o600},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, KeyFileName)
			if err := os.WriteFile(path, []byte(tt.content), tt.perm); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(path, tt.perm); err != nil { // umask may have narrowed it
				t.Fatal(err)
			}
			_, _, created, err := LoadOrCreate(dir)
			if err == nil || created {
				t.Fatalf("LoadOrCreate() = created %v, %v; want an error", created, err)
			}
			if strings.Contains(err.Error(), secret[:20]) {
				t.Fatalf("error %q echoes key material", err)
			}
			// The broken file is left for the developer, not replaced.
			if got, _ := os.ReadFile(path); string(got) != tt.content {
				t.Fatal("LoadOrCreate modified an existing key file")
			}
		})
	}
}
