package contract

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"
)

// ForwardKeySize is the size of the key a region's cells and relays share to
// seal game-server addresses (AES-256-GCM).
const ForwardKeySize = 32

// maxForwardKeyFile bounds a key file: 64 hex digits and a newline.
const maxForwardKeyFile = 256

// ErrSealedAddr is returned for a sealed address that does not open: forged,
// sealed with another key, or sealed for another session.
var ErrSealedAddr = errors.New("sealed address does not open")

// SealAddr seals a game server's host:port for one session, for the "fwd"
// claim of a connect token when forwarding is on: the player carries it to
// the relay but cannot read it, and it opens only for the session it was
// sealed for (the session id is authenticated data).
func SealAddr(key []byte, sessionID, hostPort string) (string, error) {
	aead, err := forwardAEAD(key)
	if err != nil {
		return "", err
	}
	nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+len(hostPort)+aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return "", fmt.Errorf("seal address: %w", err)
	}
	sealed := aead.Seal(nonce, nonce, []byte(hostPort), []byte(sessionID))
	return base64.RawURLEncoding.EncodeToString(sealed), nil
}

// OpenAddr opens a sealed address for sessionID.
func OpenAddr(key []byte, sessionID, sealed string) (string, error) {
	aead, err := forwardAEAD(key)
	if err != nil {
		return "", err
	}
	raw, err := base64.RawURLEncoding.DecodeString(sealed)
	if err != nil || len(raw) < aead.NonceSize()+aead.Overhead() {
		return "", ErrSealedAddr
	}
	plain, err := aead.Open(nil, raw[:aead.NonceSize()], raw[aead.NonceSize():], []byte(sessionID))
	if err != nil {
		return "", ErrSealedAddr
	}
	return string(plain), nil
}

func forwardAEAD(key []byte) (cipher.AEAD, error) {
	if len(key) != ForwardKeySize {
		return nil, fmt.Errorf("forward key is %d bytes, want %d", len(key), ForwardKeySize)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// ReadForwardKey reads a forward key file: 64 hex digits (e.g. from
// `openssl rand -hex 32`), surrounding white space ignored.
func ReadForwardKey(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("forward key: %w", err)
	}
	defer f.Close()
	buf := make([]byte, maxForwardKeyFile+1)
	n, _ := f.Read(buf)
	if n > maxForwardKeyFile {
		return nil, fmt.Errorf("forward key %s: larger than %d bytes", path, maxForwardKeyFile)
	}
	key, err := hex.DecodeString(strings.TrimSpace(string(buf[:n])))
	if err != nil || len(key) != ForwardKeySize {
		return nil, fmt.Errorf("forward key %s: want %d hex digits", path, 2*ForwardKeySize)
	}
	return key, nil
}

// ConnectIssuerPrefix starts the "iss" of every cell's connect tokens; the
// rest is the cell id. Relays find the cell whose keys verify a token by it.
const ConnectIssuerPrefix = "urn:atoll:cell:"

// ConnectJWKSPath is where a cell publishes the public keys of its connect
// tokens, which relays verify before forwarding a player.
const ConnectJWKSPath = "/.well-known/connect-jwks.json"
