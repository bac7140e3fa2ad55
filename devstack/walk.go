package devstack

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// walkTimeout bounds each request of the walk.
const walkTimeout = 10 * time.Second

// Walk takes a new player through register → login → refresh → profile
// against the core at base, printing each step.
func Walk(ctx context.Context, base string, out io.Writer) error {
	c := &client{base: base, hc: &http.Client{Timeout: walkTimeout}, out: out}
	var b [4]byte
	_, _ = rand.Read(b[:])
	user := "demo" + hex.EncodeToString(b[:])
	email := user + "@example.com"
	pw := "correct horse battery staple"

	var reg session
	if err := c.step(ctx, "1. Register", "POST", "/auth/register", "", map[string]string{"username": user, "email": email, "password": pw}, http.StatusCreated, &reg); err != nil {
		return err
	}
	var login session
	if err := c.step(ctx, "2. Log in with the password", "POST", "/auth/login", "", map[string]string{"username": user, "password": pw}, http.StatusOK, &login); err != nil {
		return err
	}
	var ref session
	if err := c.step(ctx, "3. Refresh the session (the refresh token rotates)", "POST", "/auth/refresh", "", map[string]string{"refresh_token": login.RefreshToken}, http.StatusOK, &ref); err != nil {
		return err
	}
	var reuse map[string]any
	if err := c.step(ctx, "4. Replay the old refresh token: reuse is detected and the family revoked", "POST", "/auth/refresh", "", map[string]string{"refresh_token": login.RefreshToken}, http.StatusUnauthorized, &reuse); err != nil {
		return err
	}
	var prof map[string]any
	if err := c.step(ctx, "5. Read the profile (the owner sees private fields)", "GET", "/player/"+reg.PlayerID+"/profile", ref.AccessToken, nil, http.StatusOK, &prof); err != nil {
		return err
	}
	return nil
}

type session struct {
	PlayerID     string `json:"player_id"`
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	ExpiresIn    int    `json:"expires_in"`
}

type client struct {
	base string
	hc   *http.Client
	out  io.Writer
}

func (c *client) step(ctx context.Context, title, method, path, bearer string, body any, want int, into any) error {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return fmt.Errorf("%s: %w", title, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	fmt.Fprintf(c.out, "%s\n   %s %s -> %d\n", title, method, path, resp.StatusCode)
	if resp.StatusCode != want {
		return fmt.Errorf("%s: got %d, want %d: %s", title, resp.StatusCode, want, raw)
	}
	if err := json.Unmarshal(raw, into); err != nil {
		return fmt.Errorf("%s: decode: %w", title, err)
	}
	fmt.Fprintf(c.out, "   %s\n", redact(raw))
	return nil
}

// redact shortens tokens so the walk shows their shape without printing
// usable credentials into terminals and CI logs.
func redact(raw []byte) string {
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return string(raw)
	}
	var walk func(any) any
	walk = func(x any) any {
		switch t := x.(type) {
		case map[string]any:
			for k, val := range t {
				if s, ok := val.(string); ok && strings.HasSuffix(k, "token") && len(s) > 16 {
					t[k] = s[:12] + "…(" + fmt.Sprint(len(s)) + " chars)"
					continue
				}
				t[k] = walk(val)
			}
		case []any:
			for i := range t {
				t[i] = walk(t[i])
			}
		}
		return x
	}
	b, _ := json.Marshal(walk(v))
	return string(b)
}
