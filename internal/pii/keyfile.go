package pii

import (
	"bufio"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Development key file.
const (
	// KeyFileName is the file LoadOrCreate reads and writes in its dir.
	KeyFileName = "pii-keys.dev"
	// maxKeyFileSize bounds what LoadOrCreate reads: a spec of maxSpecLen
	// plus an index key and comments.
	maxKeyFileSize = 8 * 1024
	// keyFilePerm keeps the file readable by its owner only, like an ssh
	// private key; LoadOrCreate refuses a file others can read.
	keyFilePerm = 0o600
)

// LoadOrCreate returns the keys stored in dir's KeyFileName, creating the
// file (and dir, 0700) with a fresh random encryption key and index key
// when it does not exist; created reports that it did. It is for
// development and tests, when no keys are configured: production keys come
// from configuration through ParseKeys and ParseIndexKey. Concurrent
// callers on one dir agree on one file. Errors never include key material.
func LoadOrCreate(dir string) (ring *Keyring, index *IndexKey, created bool, err error) {
	path := filepath.Join(dir, KeyFileName)
	ring, index, err = loadKeyFile(path)
	if err == nil {
		return ring, index, false, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, nil, false, err
	}
	if err := createKeyFile(dir, path); err != nil {
		if !errors.Is(err, fs.ErrExist) {
			return nil, nil, false, err
		}
		// Another process created it first: use theirs.
		ring, index, err = loadKeyFile(path)
		return ring, index, false, err
	}
	ring, index, err = loadKeyFile(path)
	if err != nil {
		return nil, nil, false, err
	}
	return ring, index, true, nil
}

// createKeyFile writes a new key file to a temporary name and links it into
// place, so the file appears complete or not at all, and a file created
// concurrently is never overwritten (Link fails with fs.ErrExist).
func createKeyFile(dir, path string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create pii key file: %w", err)
	}
	var enc, idx [KeySize]byte
	var kid [4]byte
	for _, b := range [][]byte{enc[:], idx[:], kid[:]} {
		if _, err := rand.Read(b); err != nil {
			return fmt.Errorf("create pii key file: %w", err)
		}
	}
	// A random id, so values sealed under a deleted dev file fail with
	// ErrUnknownKey rather than a puzzling ErrDecrypt.
	content := "# Atoll development PII keys, made by pii.LoadOrCreate. Never use in production.\n" +
		"keys=dev-" + hex.EncodeToString(kid[:]) + ":" + EncodeKey(enc[:]) + "\n" +
		"index=" + EncodeKey(idx[:]) + "\n"

	tmp, err := os.CreateTemp(dir, "."+KeyFileName+".*")
	if err != nil {
		return fmt.Errorf("create pii key file: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(keyFilePerm); err != nil {
		tmp.Close()
		return fmt.Errorf("create pii key file: %w", err)
	}
	if _, err := tmp.WriteString(content); err != nil {
		tmp.Close()
		return fmt.Errorf("create pii key file: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("create pii key file: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("create pii key file: %w", err)
	}
	if err := os.Link(tmp.Name(), path); err != nil {
		return fmt.Errorf("create pii key file: %w", err)
	}
	return nil
}

// loadKeyFile reads a key file of "keys=<spec>" and "index=<key>" lines;
// blank lines and lines starting with '#' are ignored.
func loadKeyFile(path string) (*Keyring, *IndexKey, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, fmt.Errorf("load pii key file: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, nil, fmt.Errorf("load pii key file: %w", err)
	}
	if perm := st.Mode().Perm(); perm&0o077 != 0 {
		return nil, nil, fmt.Errorf("load pii key file %s: permissions %#o let others read keys; chmod 600 it", path, perm)
	}
	data, err := io.ReadAll(io.LimitReader(f, maxKeyFileSize+1))
	if err != nil {
		return nil, nil, fmt.Errorf("load pii key file: %w", err)
	}
	if len(data) > maxKeyFileSize {
		return nil, nil, fmt.Errorf("load pii key file %s: larger than %d bytes", path, maxKeyFileSize)
	}
	var ring *Keyring
	var index *IndexKey
	sc := bufio.NewScanner(strings.NewReader(string(data)))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, value, _ := strings.Cut(line, "=")
		switch {
		case name == "keys" && ring == nil:
			if ring, err = ParseKeys(value); err != nil {
				return nil, nil, fmt.Errorf("load pii key file %s: line %d: %w", path, n, err)
			}
		case name == "index" && index == nil:
			if index, err = ParseIndexKey(value); err != nil {
				return nil, nil, fmt.Errorf("load pii key file %s: line %d: %w", path, n, err)
			}
		case name == "keys" || name == "index":
			return nil, nil, fmt.Errorf("load pii key file %s: line %d: %s given twice", path, n, name)
		default:
			// The line is not shown: it may hold a key.
			return nil, nil, fmt.Errorf("load pii key file %s: line %d: want keys= or index=", path, n)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, nil, fmt.Errorf("load pii key file %s: %w", path, err)
	}
	if ring == nil || index == nil {
		return nil, nil, fmt.Errorf("load pii key file %s: want both keys= and index= lines", path)
	}
	return ring, index, nil
}
