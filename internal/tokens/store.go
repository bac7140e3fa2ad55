package tokens

import (
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// KeysFileName is the file LoadOrCreate keeps the key ring in, inside its
// directory.
const KeysFileName = "signing-keys.json"

// MaxKeysFileBytes bounds the key file read at start. An entry is ~300 bytes
// and a ring holds a handful, so 1 MiB only refuses a wrong file (a log
// pointed at by mistake) before it is read whole.
const MaxKeysFileBytes = 1 << 20

const keysFileVersion = 1

// keysFile is the on-disk form: private keys as JWKs, active key first.
type keysFile struct {
	Version int         `json:"version"`
	Keys    []storedKey `json:"keys"`
}

type storedKey struct {
	Created  time.Time       `json:"created,omitzero"`
	RetireAt time.Time       `json:"retire_at,omitzero"`
	JWK      jose.JSONWebKey `json:"jwk"`
}

// LoadOrCreate opens the disk-backed key ring in dir, creating dir (0700) and
// a first key (file 0600) if there is none; created reports that a new key was
// made, which the caller logs. Rotate and Prune persist every change with an
// atomic replace, so a crash never leaves a half-written key file. A key file
// group or others can access, or a directory they can write, is refused.
func LoadOrCreate(dir string, overlap time.Duration) (ring *KeyRing, created bool, err error) {
	if dir == "" {
		return nil, false, errors.New("load signing keys: no directory given")
	}
	if err := validateOverlap(overlap); err != nil {
		return nil, false, fmt.Errorf("load signing keys: %w", err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, false, fmt.Errorf("load signing keys: %w", err)
	}
	info, err := os.Stat(dir)
	if err != nil {
		return nil, false, fmt.Errorf("load signing keys: %w", err)
	}
	if !info.IsDir() {
		return nil, false, fmt.Errorf("load signing keys: %s is not a directory", dir)
	}
	// Like ssh's StrictModes: whoever can write the directory can swap the
	// keys for their own.
	if perm := info.Mode().Perm(); perm&0o022 != 0 {
		return nil, false, fmt.Errorf("load signing keys: directory %s has mode %04o; others could replace the keys in it (chmod 700)", dir, perm)
	}
	removeStaleTemps(dir)

	k := &KeyRing{overlap: overlap, dir: dir}
	path := filepath.Join(dir, KeysFileName)
	s, err := loadKeys(path)
	if errors.Is(err, fs.ErrNotExist) {
		s = newRingState([]*ringKey{generateKey(time.Now())})
		data, eerr := encodeKeys(s)
		if eerr != nil {
			return nil, false, fmt.Errorf("create signing keys: %w", eerr)
		}
		werr := writeFileExclusive(path, data)
		if werr == nil {
			k.state.Store(s)
			return k, true, nil
		}
		if !errors.Is(werr, fs.ErrExist) {
			return nil, false, fmt.Errorf("create signing keys: %w", werr)
		}
		// Another process sharing dir created the ring first: use its.
		s, err = loadKeys(path)
	}
	if err != nil {
		return nil, false, fmt.Errorf("load signing keys: %w", err)
	}
	k.state.Store(s)
	return k, false, nil
}

func loadKeys(path string) (*ringState, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !info.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", path)
	}
	if perm := info.Mode().Perm(); perm&0o077 != 0 {
		return nil, fmt.Errorf("%s has mode %04o; it holds private keys, so it must be private to its owner (chmod 600)", path, perm)
	}
	data, err := io.ReadAll(io.LimitReader(f, MaxKeysFileBytes+1))
	if err != nil {
		return nil, err
	}
	if len(data) > MaxKeysFileBytes {
		return nil, fmt.Errorf("%s is larger than %d bytes", path, MaxKeysFileBytes)
	}
	s, err := decodeKeys(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return s, nil
}

func decodeKeys(data []byte) (*ringState, error) {
	var kf keysFile
	if err := json.Unmarshal(data, &kf); err != nil {
		return nil, fmt.Errorf("decode key file: %w", err)
	}
	if kf.Version != keysFileVersion {
		return nil, fmt.Errorf("key file version %d, want %d", kf.Version, keysFileVersion)
	}
	if len(kf.Keys) == 0 {
		return nil, errors.New("key file holds no keys")
	}
	keys := make([]*ringKey, 0, len(kf.Keys))
	seen := make(map[string]bool, len(kf.Keys))
	for i, sk := range kf.Keys {
		priv, ok := sk.JWK.Key.(ed25519.PrivateKey)
		if !ok {
			return nil, fmt.Errorf("key %d is %T, want an Ed25519 private key", i, sk.JWK.Key)
		}
		rk, err := keyFromPrivate(priv, sk.Created)
		if err != nil {
			return nil, fmt.Errorf("key %d: %w", i, err)
		}
		if sk.JWK.KeyID != rk.kid {
			return nil, fmt.Errorf("key %d: kid %q is not the key's thumbprint %q", i, sk.JWK.KeyID, rk.kid)
		}
		if seen[rk.kid] {
			return nil, fmt.Errorf("key %d: duplicate kid %q", i, rk.kid)
		}
		seen[rk.kid] = true
		if active := i == 0; active != sk.RetireAt.IsZero() {
			return nil, fmt.Errorf("key %d: only the first (active) key may lack retire_at", i)
		}
		rk.retireAt = sk.RetireAt
		keys = append(keys, rk)
	}
	return newRingState(keys), nil
}

func encodeKeys(s *ringState) ([]byte, error) {
	kf := keysFile{Version: keysFileVersion, Keys: make([]storedKey, len(s.keys))}
	for i, rk := range s.keys {
		kf.Keys[i] = storedKey{
			Created:  rk.created,
			RetireAt: rk.retireAt,
			JWK:      jose.JSONWebKey{Key: rk.priv, KeyID: rk.kid, Algorithm: string(jose.EdDSA), Use: "sig"},
		}
	}
	data, err := json.MarshalIndent(kf, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode key file: %w", err)
	}
	return append(data, '\n'), nil
}

func saveKeys(dir string, s *ringState) error {
	data, err := encodeKeys(s)
	if err != nil {
		return err
	}
	return writeFileAtomic(filepath.Join(dir, KeysFileName), data)
}

// tempPattern names files being written; a crash can leave one behind.
const tempPattern = ".atoll-*.tmp"

// writeTemp writes data to a new 0600 file beside path and syncs it.
func writeTemp(path string, data []byte) (string, error) {
	f, err := os.CreateTemp(filepath.Dir(path), tempPattern)
	if err != nil {
		return "", err
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp)
		return "", err
	}
	return tmp, nil
}

// writeFileAtomic replaces path with data (mode 0600): readers see the old
// file or the new one, never a mix, even across a crash.
func writeFileAtomic(path string, data []byte) error {
	tmp, err := writeTemp(path, data)
	if err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return err
	}
	return syncDir(filepath.Dir(path))
}

// writeFileExclusive creates path with data (mode 0600), atomically, failing
// with fs.ErrExist if path exists: two processes creating it at once cannot
// both win.
func writeFileExclusive(path string, data []byte) error {
	tmp, err := writeTemp(path, data)
	if err != nil {
		return err
	}
	defer os.Remove(tmp)
	if err := os.Link(tmp, path); err != nil {
		return err
	}
	return syncDir(filepath.Dir(path))
}

// syncDir makes a rename or link in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

// staleTempAge is how old a temp file must be before removeStaleTemps deletes
// it. A write takes milliseconds; a minute spares a file another process
// sharing the directory is writing right now.
const staleTempAge = time.Minute

// removeStaleTemps deletes temp files a crash left in dir; they may hold
// private keys. Failures are harmless: the files are never read.
func removeStaleTemps(dir string) {
	names, _ := filepath.Glob(filepath.Join(dir, tempPattern))
	for _, n := range names {
		if info, err := os.Lstat(n); err == nil && time.Since(info.ModTime()) > staleTempAge {
			os.Remove(n)
		}
	}
}
