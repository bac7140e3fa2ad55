package devstack

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	gameclient "github.com/atollgg/atoll/gameserver/client"
	"github.com/atollgg/atoll/internal/httpx"
)

// walkTimeout bounds each request of the walk.
const walkTimeout = 10 * time.Second

// maxShown keeps each printed answer to about two terminal lines.
const maxShown = 240

// Walk takes a new player through register → login → refresh → profile
// against the core at globalURL, then matches two guests on the cell at
// cellURL, printing each step.
func Walk(ctx context.Context, globalURL, cellURL string, out io.Writer) error {
	c := &client{base: globalURL, hc: &http.Client{Timeout: walkTimeout}, out: out}
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
	if err := walkEconomy(ctx, c, ref.AccessToken); err != nil {
		return err
	}
	if cellURL == "" {
		return nil
	}
	return walkMatch(ctx, c, cellURL)
}

// walkEconomy buys an item (and retries the purchase, which must not charge
// twice), tops up premium currency through the development payment
// provider, and shows the wallet and inventory.
func walkEconomy(ctx context.Context, c *client, token string) error {
	var wallet, bought, again, inv, checkout, done map[string]any
	if err := c.step(ctx, "6. The wallet starts with the configured balance", "GET", "/wallet", token, nil, http.StatusOK, &wallet); err != nil {
		return err
	}
	key := idempotencyKey()
	buy := map[string]any{"item_template_id": "sword_wooden", "quantity": 1, "currency": "coins"}
	if err := c.step(ctx, "7. Buy a wooden sword (price from the server's catalog, never the client)", "POST", "/store/purchase", token, buy, http.StatusCreated, &bought, "Idempotency-Key", key); err != nil {
		return err
	}
	if err := c.step(ctx, "8. Retry with the same Idempotency-Key: the first result, no second charge", "POST", "/store/purchase", token, buy, http.StatusCreated, &again, "Idempotency-Key", key); err != nil {
		return err
	}
	if err := c.step(ctx, "9. Top up 100 gems through the development payment gateway (checkout…", "POST", "/store/checkout", token, map[string]string{"offer_id": "gems_100"}, http.StatusCreated, &checkout, "Idempotency-Key", idempotencyKey()); err != nil {
		return err
	}
	ref, _ := checkout["checkout_ref"].(string)
	if err := c.step(ctx, "   …and the gateway's signed webhook completing it)", "POST", "/payments/dev/checkout/"+ref+"/complete", token, nil, http.StatusOK, &done); err != nil {
		return err
	}
	if err := c.step(ctx, "10. Wallet after the purchase and the top-up", "GET", "/wallet", token, nil, http.StatusOK, &wallet); err != nil {
		return err
	}
	return c.step(ctx, "11. Inventory", "GET", "/inventory/"+playerOf(token), token, nil, http.StatusOK, &inv)
}

// playerOf reads the subject of an access token (already verified by the
// server that issued it) to build the inventory URL.
func playerOf(token string) string {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return ""
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return ""
	}
	var c struct {
		Sub string `json:"sub"`
	}
	_ = json.Unmarshal(b, &c)
	return c.Sub
}

// matchWait bounds the bots' whole journey: login, matching, a short match
// (the dev stack sets a 15 s time limit) and the cell recording the results.
const matchWait = 90 * time.Second

// walkMatch has two bots take the whole player journey on the cell: guest
// login, the duel queue, a match on a warm game server (WebSocket, connect
// token, prediction), and the results the game server reported.
func walkMatch(ctx context.Context, c *client, cellURL string) error {
	fmt.Fprintln(c.out, "12. Two bots sign in as guests, queue for a duel on the cell and play it out (about 15 s)…")
	ctx, cancel := context.WithTimeout(ctx, matchWait)
	defer cancel()
	type out struct {
		res gameclient.JourneyResult
		err error
	}
	results := make(chan out, 2)
	for range 2 {
		go func() {
			r, err := gameclient.PlayJourney(ctx, gameclient.JourneyConfig{GlobalURL: c.base, CellURL: cellURL, Mode: "duel"})
			results <- out{r, err}
		}()
	}
	var first gameclient.JourneyResult
	for i := range 2 {
		o := <-results
		if o.err != nil {
			return fmt.Errorf("bot journey: %w", o.err)
		}
		if i == 0 {
			first = o.res
		}
	}
	fmt.Fprintf(c.out, "   matched in %s on session %s, played %s\n", first.MatchTook.Round(time.Millisecond), first.SessionID, first.PlayTook.Round(time.Second))
	fmt.Fprintf(c.out, "13. The session as the cell recorded it: %s\n", first.Session.Status)
	if first.Session.Results != nil {
		for _, p := range first.Session.Results.Players {
			fmt.Fprintf(c.out, "   player %s…  place %d  score %d  kills %d  deaths %d  played %.0fs\n", p.PlayerID[:8], p.Placement, p.Score, p.Kills, p.Deaths, p.TimePlayedS)
		}
	}
	fmt.Fprintln(c.out, "   (the results are also on the cell's JetStream stream as a match.completed event)")
	return nil
}

// idempotencyKey returns a fresh Idempotency-Key for one economy call.
func idempotencyKey() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return "walk-" + hex.EncodeToString(b[:])
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

func (c *client) step(ctx context.Context, title, method, path, bearer string, body any, want int, into any, headers ...string) error {
	req, err := httpx.NewJSONRequest(ctx, method, c.base+path, bearer, body)
	if err != nil {
		return err
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if title != "" {
		fmt.Fprintln(c.out, title)
	}
	fmt.Fprintf(c.out, "   %s %s -> %d\n", method, path, resp.StatusCode)
	if resp.StatusCode != want {
		return fmt.Errorf("%s %s: got %d, want %d: %s", method, path, resp.StatusCode, want, raw)
	}
	if err := json.Unmarshal(raw, into); err != nil {
		return fmt.Errorf("%s %s: decode: %w", method, path, err)
	}
	line := redact(raw)
	if len(line) > maxShown {
		line = line[:maxShown] + "…"
	}
	fmt.Fprintf(c.out, "   %s\n", line)
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
