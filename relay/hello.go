package relay

import (
	"bytes"
	"errors"

	"github.com/atollgg/atoll/internal/httpx"
	"github.com/atollgg/atoll/internal/tokens"
)

// hello is a player's first frame, as the game server reads it
// (gameserver/server): {"token": "<connect token>"}.
type hello struct {
	Token string `json:"token"`
}

// decodeHello returns the token of a hello frame.
func decodeHello(data []byte) (string, error) {
	if len(data) > maxHelloBytes {
		return "", errors.New("hello too large")
	}
	var h hello
	if err := httpx.DecodeStrict(bytes.NewReader(data), &h); err != nil {
		return "", errors.New("hello is not a JSON object {\"token\": ...}")
	}
	if h.Token == "" || len(h.Token) > tokens.MaxTokenLength {
		return "", errors.New("hello has no usable token")
	}
	return h.Token, nil
}
