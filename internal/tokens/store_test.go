package tokens

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func mode(t *testing.T, path string) os.FileMode {
	t.Helper()
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return info.Mode().Perm()
}

func TestLoadOrCreateRoundTrip(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "keys", "global")
	ring, created, err := LoadOrCreate(dir, DefaultOverlap)
	if err != nil || !created {
		t.Fatalf("first LoadOrCreate = %v, created %v", err, created)
	}
	file := filepath.Join(dir, KeysFileName)
	if m := mode(t, dir); m != 0o700 {
		t.Errorf("dir mode = %04o, want 0700", m)
	}
	if m := mode(t, file); m != 0o600 {
		t.Errorf("file mode = %04o, want 0600", m)
	}
	first := ring.ActiveKID()
	tok, _, err := newTestIssuer(t, ring).IssueAccess("player-1", t0)
	if err != nil {
		t.Fatal(err)
	}

	again, created, err := LoadOrCreate(dir, DefaultOverlap)
	if err != nil || created {
		t.Fatalf("second LoadOrCreate = %v, created %v", err, created)
	}
	if again.ActiveKID() != first {
		t.Fatalf("reloaded kid %q, want %q", again.ActiveKID(), first)
	}
	if _, err := newTestVerifier(t, again, "").VerifyAccess(tok, t0); err != nil {
		t.Fatalf("token from before the reload: %v", err)
	}

	// Rotation and pruning are persisted.
	overlap := 2 * time.Hour
	ring, _, err = LoadOrCreate(dir, overlap)
	if err != nil {
		t.Fatal(err)
	}
	if err := ring.Rotate(t0); err != nil {
		t.Fatal(err)
	}
	reloaded, _, err := LoadOrCreate(dir, overlap)
	if err != nil {
		t.Fatal(err)
	}
	want := ring.Keys()
	got := reloaded.Keys()
	if len(got) != 2 || got[0].KID != want[0].KID || !got[0].Created.Equal(t0) || got[1].KID != first || !got[1].RetireAt.Equal(t0.Add(overlap)) {
		t.Fatalf("reloaded keys = %+v, want %+v", got, want)
	}
	if m := mode(t, file); m != 0o600 {
		t.Errorf("file mode after rotate = %04o, want 0600", m)
	}
	if n, err := reloaded.Prune(t0.Add(overlap)); err != nil || n != 1 {
		t.Fatalf("Prune = %d, %v", n, err)
	}
	reloaded, _, err = LoadOrCreate(dir, overlap)
	if err != nil || len(reloaded.Keys()) != 1 || reloaded.ActiveKID() != want[0].KID {
		t.Fatalf("after prune: %+v, %v", reloaded.Keys(), err)
	}

	// Atomic writes leave nothing behind.
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 || entries[0].Name() != KeysFileName {
		t.Fatalf("dir holds %v, want only %s", entries, KeysFileName)
	}
}

func TestLoadOrCreateConcurrentCreate(t *testing.T) {
	dir := t.TempDir()
	const n = 4
	kids := make([]string, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			ring, _, err := LoadOrCreate(dir, DefaultOverlap)
			errs[i] = err
			if err == nil {
				kids[i] = ring.ActiveKID()
			}
		})
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil || kids[i] != kids[0] {
			t.Fatalf("LoadOrCreate %d: kid %q, err %v; want the shared kid %q", i, kids[i], errs[i], kids[0])
		}
	}
}

func TestLoadOrCreateRemovesStaleTemps(t *testing.T) {
	dir := t.TempDir()
	if _, _, err := LoadOrCreate(dir, DefaultOverlap); err != nil {
		t.Fatal(err)
	}
	stale := filepath.Join(dir, ".atoll-123.tmp")
	fresh := filepath.Join(dir, ".atoll-456.tmp")
	for _, f := range []string{stale, fresh} {
		if err := os.WriteFile(f, []byte("half a key"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	old := time.Now().Add(-2 * staleTempAge)
	if err := os.Chtimes(stale, old, old); err != nil {
		t.Fatal(err)
	}
	if _, _, err := LoadOrCreate(dir, DefaultOverlap); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Fatalf("stale temp file still there: %v", err)
	}
	// A fresh one may be another process's write in progress.
	if _, err := os.Stat(fresh); err != nil {
		t.Fatalf("fresh temp file removed: %v", err)
	}
}

func TestLoadOrCreateRefuses(t *testing.T) {
	valid := func(t *testing.T) []byte {
		dir := t.TempDir()
		if _, _, err := LoadOrCreate(dir, DefaultOverlap); err != nil {
			t.Fatal(err)
		}
		data, err := os.ReadFile(filepath.Join(dir, KeysFileName))
		if err != nil {
			t.Fatal(err)
		}
		return data
	}
	// edit rewrites the key file through a generic JSON tree.
	edit := func(fn func(m map[string]any)) func(t *testing.T) []byte {
		return func(t *testing.T) []byte {
			var m map[string]any
			if err := json.Unmarshal(valid(t), &m); err != nil {
				t.Fatal(err)
			}
			fn(m)
			out, _ := json.Marshal(m)
			return out
		}
	}
	firstKey := func(m map[string]any) map[string]any { return m["keys"].([]any)[0].(map[string]any) }
	tests := []struct {
		name     string
		file     func(t *testing.T) []byte // contents to plant; nil plants none
		fileMode os.FileMode
		dirMode  os.FileMode
		overlap  time.Duration
		reason   string
	}{
		{name: "dir writable by group", dirMode: 0o770, reason: "chmod 700"},
		{name: "file readable by group", file: valid, fileMode: 0o640, reason: "chmod 600"},
		{name: "overlap too short", overlap: MinOverlap - time.Second, reason: "shorter than the minimum"},
		{name: "not JSON", file: func(*testing.T) []byte { return []byte("-----BEGIN PRIVATE KEY-----") }, reason: "decode key file"},
		{name: "too large", file: func(*testing.T) []byte { return []byte(strings.Repeat(" ", MaxKeysFileBytes+1)) }, reason: "larger than"},
		{name: "unknown version", file: edit(func(m map[string]any) { m["version"] = 2 }), reason: "version 2"},
		{name: "no keys", file: edit(func(m map[string]any) { m["keys"] = []any{} }), reason: "no keys"},
		{name: "public key only", file: edit(func(m map[string]any) { delete(firstKey(m)["jwk"].(map[string]any), "d") }), reason: "want an Ed25519 private key"},
		{name: "kid not the thumbprint", file: edit(func(m map[string]any) { firstKey(m)["jwk"].(map[string]any)["kid"] = "mine" }), reason: "thumbprint"},
		{name: "active key with retire time", file: edit(func(m map[string]any) { firstKey(m)["retire_at"] = t0 }), reason: "only the first"},
		{name: "duplicate key", file: edit(func(m map[string]any) {
			k := m["keys"].([]any)
			dup := map[string]any{"retire_at": t0, "jwk": k[0].(map[string]any)["jwk"]}
			m["keys"] = append(k, dup)
		}), reason: "duplicate kid"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "keys")
			if err := os.Mkdir(dir, 0o700); err != nil {
				t.Fatal(err)
			}
			if tc.file != nil {
				fm := tc.fileMode
				if fm == 0 {
					fm = 0o600
				}
				path := filepath.Join(dir, KeysFileName)
				if err := os.WriteFile(path, tc.file(t), fm); err != nil {
					t.Fatal(err)
				}
				if err := os.Chmod(path, fm); err != nil {
					t.Fatal(err)
				}
			}
			if tc.dirMode != 0 {
				if err := os.Chmod(dir, tc.dirMode); err != nil {
					t.Fatal(err)
				}
			}
			overlap := tc.overlap
			if overlap == 0 {
				overlap = DefaultOverlap
			}
			ring, _, err := LoadOrCreate(dir, overlap)
			if err == nil {
				t.Fatalf("LoadOrCreate succeeded with kid %s", ring.ActiveKID())
			}
			if !strings.Contains(err.Error(), tc.reason) {
				t.Fatalf("error %q, want it to mention %q", err, tc.reason)
			}
		})
	}
}

func TestLoadOrCreateBadDir(t *testing.T) {
	if _, _, err := LoadOrCreate("", DefaultOverlap); err == nil {
		t.Fatal("LoadOrCreate(\"\") succeeded")
	}
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := LoadOrCreate(file, DefaultOverlap); err == nil {
		t.Fatal("LoadOrCreate(a file) succeeded")
	}
}

// A rotation that cannot be persisted changes nothing: the process keeps
// signing with the key that is on disk.
func TestRotatePersistFailure(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "keys")
	ring, _, err := LoadOrCreate(dir, DefaultOverlap)
	if err != nil {
		t.Fatal(err)
	}
	before := ring.ActiveKID()
	// Replace the directory by a file so no write can succeed, even as root.
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dir, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := ring.Rotate(t0); err == nil {
		t.Fatal("Rotate succeeded without a key directory")
	}
	if ring.ActiveKID() != before || len(ring.Keys()) != 1 {
		t.Fatalf("failed Rotate changed the ring: %+v", ring.Keys())
	}
}
