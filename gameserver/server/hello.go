package server

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/atollgg/atoll/internal/httpx"
	"github.com/atollgg/atoll/internal/tokens"
)

// maxHelloBytes bounds the first frame, which carries only the connect
// token in a small JSON object.
const maxHelloBytes = tokens.MaxTokenLength + 64

// hello is the first frame a client sends: {"token":"<connect token>"}.
// The token travels in a frame, not the URL, so no proxy or access log on
// the way records it.
type hello struct {
	Token string `json:"token"`
}

// decodeHello reads a hello frame and returns its token.
func decodeHello(data []byte) (string, error) {
	if len(data) > maxHelloBytes {
		return "", fmt.Errorf("hello larger than %d bytes", maxHelloBytes)
	}
	var h hello
	if err := httpx.DecodeStrict(bytes.NewReader(data), &h); err != nil {
		return "", errors.New("hello is not a JSON object {\"token\": ...}")
	}
	if h.Token == "" {
		return "", errors.New("hello has no token")
	}
	if len(h.Token) > tokens.MaxTokenLength {
		return "", fmt.Errorf("token longer than %d bytes", tokens.MaxTokenLength)
	}
	return h.Token, nil
}
