package identity

import (
	"bytes"
	"testing"

	"github.com/atollgg/atoll/internal/httpx"
)

// FuzzDecodeAuthRequests feeds arbitrary bodies to the strict decoder with
// each auth request type: it must return a value or an *httpx.Error, never panic.
func FuzzDecodeAuthRequests(f *testing.F) {
	for _, s := range []string{
		`{"username":"a","email":"a@b.c","password":"xxxxxxxxxx"}`,
		`{"device_id":"0123456789"}`, `{"refresh_token":"art_x"}`, `{"id_token":"a.b.c"}`,
		`{"username":1}`, `[]`, `{"a":1}{}`, "\x00", `{"password":"\ud800"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, dst := range []any{&RegisterRequest{}, &LoginRequest{}, &DeviceRequest{}, &RefreshRequest{}, &OIDCRequest{}} {
			err := httpx.DecodeStrict(bytes.NewReader(body), dst)
			if err == nil {
				continue
			}
			if _, ok := err.(*httpx.Error); !ok {
				t.Fatalf("decode error %T is not an *httpx.Error: %v", err, err)
			}
		}
		_, _ = unverifiedIssuer(string(body))
		_ = validDeviceID(string(body))
		_ = validUsername(string(body))
		_ = validRefreshToken(string(body))
	})
}
