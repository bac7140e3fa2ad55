// Package globaltest starts a real global core on a fresh test database and
// gives tests a small client for it.
package globaltest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/atollgg/atoll/global"
	"github.com/atollgg/atoll/global/identity"
	"github.com/atollgg/atoll/internal/dbtest"
	"github.com/atollgg/atoll/internal/httpx"
	"github.com/atollgg/atoll/internal/obs"
	"github.com/atollgg/atoll/internal/password"
)

// AdminToken is the admin token test cores are started with.
const AdminToken = "test-admin-token-0123456789"

// CellToken is the service credential of the test cell "cell-test".
const CellToken = "test-cell-token-0123456789"

// CellID is the cell the test core accepts CellToken from.
const CellID = "cell-test"

// FastArgon2 keeps password hashing cheap in tests; production uses password.DefaultParams.
var FastArgon2 = password.Params{Memory: 1024, Iterations: 1, Parallelism: 1, SaltLen: 16, KeyLen: 32}

// Core is a running global core.
type Core struct {
	*global.Server
	URL    string
	Client *http.Client
}

// Start runs a global core for t on a fresh database with rate limits off.
// mutate, if given, adjusts the config before start.
func Start(t testing.TB, mutate ...func(*global.Config)) *Core {
	t.Helper()
	cfg := global.Config{
		DatabaseURL:   dbtest.URL(t),
		HTTPAddr:      "127.0.0.1:0",
		DataDir:       t.TempDir(),
		AdminToken:    AdminToken,
		CellTokens:    map[string]string{CellID: CellToken},
		AuthRateLimit: "off",
		Argon2:        FastArgon2,
		Log:           obs.Discard(),
	}
	for _, m := range mutate {
		m(&cfg)
	}
	ctx := context.Background()
	s, err := global.New(ctx, cfg)
	if err != nil {
		t.Fatalf("globaltest: new core: %v", err)
	}
	if err := s.Start(ctx); err != nil {
		t.Fatalf("globaltest: start core: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = s.Shutdown(ctx)
	})
	return &Core{Server: s, URL: s.URL(), Client: &http.Client{Timeout: 30 * time.Second}}
}

// Response is a decoded HTTP answer.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// Decode unmarshals the body into v.
func (r Response) Decode(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("decode %s: %v", r.Body, err)
	}
}

// ErrorCode returns the envelope's error code, or "".
func (r Response) ErrorCode() string {
	return httpx.ParseError(r.Status, r.Body).Code
}

// Do sends a request with an optional JSON body and bearer token.
func (c *Core) Do(t testing.TB, method, path, bearer string, body any, headers ...string) Response {
	t.Helper()
	req, err := httpx.NewJSONRequest(context.Background(), method, c.URL+path, bearer, body)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := c.Client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return Response{Status: resp.StatusCode, Header: resp.Header, Body: b}
}

// Player is a logged-in test player.
type Player struct {
	ID, Access, Refresh string
}

// Guest creates a player through device auth.
func (c *Core) Guest(t testing.TB) Player {
	t.Helper()
	var b [12]byte
	_, _ = rand.Read(b[:])
	resp := c.Do(t, "POST", "/auth/device", "", map[string]string{"device_id": "test-device-" + hex.EncodeToString(b[:])})
	if resp.Status != http.StatusCreated {
		t.Fatalf("device auth: %d %s", resp.Status, resp.Body)
	}
	var s identity.SessionResponse
	resp.Decode(t, &s)
	return Player{ID: s.PlayerID, Access: s.AccessToken, Refresh: s.RefreshToken}
}

// Register creates a player with a password.
func (c *Core) Register(t testing.TB, username, email, pw string) Player {
	t.Helper()
	resp := c.Do(t, "POST", "/auth/register", "", map[string]string{"username": username, "email": email, "password": pw})
	if resp.Status != http.StatusCreated {
		t.Fatalf("register %s: %d %s", username, resp.Status, resp.Body)
	}
	var s identity.SessionResponse
	resp.Decode(t, &s)
	return Player{ID: s.PlayerID, Access: s.AccessToken, Refresh: s.RefreshToken}
}

// MustStatus fails t unless r has the wanted status.
func MustStatus(t testing.TB, r Response, want int) {
	t.Helper()
	if r.Status != want {
		t.Fatalf("status %d, want %d: %s", r.Status, want, r.Body)
	}
}
