package identity_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/atollgg/atoll/global"
	"github.com/atollgg/atoll/global/globaltest"
	"github.com/atollgg/atoll/global/identity"
	"github.com/atollgg/atoll/internal/dbtest"
	"github.com/atollgg/atoll/internal/tokens"
	"github.com/golang-jwt/jwt/v5"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

const goodPassword = "correct horse battery"

func TestRegisterLoginRefreshProfile(t *testing.T) {
	c := globaltest.Start(t)
	p := c.Register(t, "alice", "Alice@Example.com", goodPassword)

	// Login by username and by (differently cased) email.
	for _, body := range []map[string]string{
		{"username": "ALICE", "password": goodPassword},
		{"email": "alice@example.COM", "password": goodPassword},
	} {
		r := c.Do(t, "POST", "/auth/login", "", body)
		globaltest.MustStatus(t, r, http.StatusOK)
		var s identity.SessionResponse
		r.Decode(t, &s)
		if s.PlayerID != p.ID || s.AccessToken == "" || !strings.HasPrefix(s.RefreshToken, "art_") || s.ExpiresIn != 900 {
			t.Fatalf("login response %+v", s)
		}
	}

	// The owner sees the decrypted email; another player does not.
	r := c.Do(t, "GET", "/player/"+p.ID+"/profile", p.Access, nil)
	globaltest.MustStatus(t, r, http.StatusOK)
	var own map[string]any
	r.Decode(t, &own)
	if own["email"] != "alice@example.com" || own["username"] != "alice" || own["player_level"] != float64(1) {
		t.Fatalf("owner profile %v", own)
	}
	other := c.Guest(t)
	r = c.Do(t, "GET", "/player/"+p.ID+"/profile", other.Access, nil)
	globaltest.MustStatus(t, r, http.StatusOK)
	var pub map[string]any
	r.Decode(t, &pub)
	if _, ok := pub["email"]; ok {
		t.Fatalf("public profile leaks email: %v", pub)
	}
	if _, ok := pub["last_login"]; ok {
		t.Fatalf("public profile leaks last_login: %v", pub)
	}

	// The email is encrypted at rest, and found through the blind index.
	var enc, idx string
	if err := c.DB.Pool.QueryRow(context.Background(), `SELECT email_enc, email_idx FROM players WHERE id = $1`, p.ID).Scan(&enc, &idx); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(enc, "alice") || strings.Contains(idx, "alice") || !strings.HasPrefix(enc, "v1.") {
		t.Fatalf("email stored in the clear: %q / %q", enc, idx)
	}

	// PATCH /player/me validates and applies.
	r = c.Do(t, "PATCH", "/player/me", p.Access, map[string]any{"display_name": "Alice ⚔"})
	globaltest.MustStatus(t, r, http.StatusOK)
	r = c.Do(t, "PATCH", "/player/me", p.Access, map[string]any{"display_name": "bad\u0000name"})
	globaltest.MustStatus(t, r, http.StatusBadRequest)
	r = c.Do(t, "PATCH", "/player/me", p.Access, map[string]any{"profile_public": false})
	globaltest.MustStatus(t, r, http.StatusOK)
	r = c.Do(t, "GET", "/player/"+p.ID+"/profile", other.Access, nil)
	globaltest.MustStatus(t, r, http.StatusForbidden)
}

func TestLoginFailuresLookAlike(t *testing.T) {
	c := globaltest.Start(t)
	c.Register(t, "bob_the_builder", "bob@example.com", goodPassword)
	unknown := c.Do(t, "POST", "/auth/login", "", map[string]string{"username": "nobody", "password": goodPassword})
	wrong := c.Do(t, "POST", "/auth/login", "", map[string]string{"username": "bob_the_builder", "password": "not the password"})
	globaltest.MustStatus(t, unknown, http.StatusUnauthorized)
	globaltest.MustStatus(t, wrong, http.StatusUnauthorized)
	if string(unknown.Body) != string(wrong.Body) {
		t.Fatalf("unknown user and wrong password answer differently:\n%s\n%s", unknown.Body, wrong.Body)
	}
	var n int
	if err := c.DB.Pool.QueryRow(context.Background(), `SELECT count(*) FROM audit_log WHERE kind = 'auth.login_failed'`).Scan(&n); err != nil || n != 2 {
		t.Fatalf("audited login failures = %d (err %v), want 2", n, err)
	}
}

func TestRegisterValidation(t *testing.T) {
	c := globaltest.Start(t)
	c.Register(t, "taken", "taken@example.com", goodPassword)
	cases := []struct {
		name string
		body any
		want int
		code string
	}{
		{"short password", map[string]string{"username": "carol", "email": "c@example.com", "password": "short"}, 400, "invalid_argument"},
		{"password equals username", map[string]string{"username": "carolcarol", "email": "c@example.com", "password": "carolcarol"}, 400, "invalid_argument"},
		{"password equals email", map[string]string{"username": "carol", "email": "carol12345@example.com", "password": "carol12345@example.com"}, 400, "invalid_argument"},
		{"bad email", map[string]string{"username": "carol", "email": "not-an-email", "password": goodPassword}, 400, "invalid_argument"},
		{"bad username", map[string]string{"username": "a b", "email": "c@example.com", "password": goodPassword}, 400, "invalid_argument"},
		{"reserved username", map[string]string{"username": "guest_x1", "email": "c@example.com", "password": goodPassword}, 400, "invalid_argument"},
		{"unknown field", map[string]string{"username": "carol", "email": "c@example.com", "password": goodPassword, "admin": "true"}, 400, "invalid_argument"},
		{"malformed json", []byte(`{"username":`), 400, "invalid_argument"},
		{"trailing data", []byte(`{"username":"a"} {}`), 400, "invalid_argument"},
		{"taken username", map[string]string{"username": "TAKEN", "email": "other@example.com", "password": goodPassword}, 409, "already_exists"},
		{"taken email", map[string]string{"username": "other", "email": "Taken@example.com", "password": goodPassword}, 409, "already_exists"},
		{"too large", []byte(`{"username":"` + strings.Repeat("a", 10000) + `"}`), 413, "payload_too_large"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := c.Do(t, "POST", "/auth/register", "", tc.body)
			if r.Status != tc.want || r.ErrorCode() != tc.code {
				t.Fatalf("got %d %s, want %d %s", r.Status, r.Body, tc.want, tc.code)
			}
		})
	}
}

func TestConcurrentRegistrationsOneWinner(t *testing.T) {
	c := globaltest.Start(t)
	const n = 16
	var wg sync.WaitGroup
	statuses := make([]int, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := c.Do(t, "POST", "/auth/register", "", map[string]string{
				"username": "racer", "email": fmt.Sprintf("racer%d@example.com", i), "password": goodPassword,
			})
			statuses[i] = r.Status
		}()
	}
	wg.Wait()
	created, conflicts := 0, 0
	for _, s := range statuses {
		switch s {
		case http.StatusCreated:
			created++
		case http.StatusConflict:
			conflicts++
		default:
			t.Fatalf("unexpected status %d in %v", s, statuses)
		}
	}
	if created != 1 || conflicts != n-1 {
		t.Fatalf("created=%d conflicts=%d, want 1 and %d", created, conflicts, n-1)
	}
	var rows int
	if err := c.DB.Pool.QueryRow(context.Background(), `SELECT count(*) FROM players WHERE username_norm = 'racer'`).Scan(&rows); err != nil || rows != 1 {
		t.Fatalf("players named racer = %d (err %v)", rows, err)
	}
}

func TestDeviceAuthCreatesThenLogsIn(t *testing.T) {
	c := globaltest.Start(t)
	body := map[string]string{"device_id": "device-0123456789"}
	first := c.Do(t, "POST", "/auth/device", "", body)
	globaltest.MustStatus(t, first, http.StatusCreated)
	second := c.Do(t, "POST", "/auth/device", "", body)
	globaltest.MustStatus(t, second, http.StatusOK)
	var a, b identity.SessionResponse
	first.Decode(t, &a)
	second.Decode(t, &b)
	if a.PlayerID != b.PlayerID || !a.Created || b.Created {
		t.Fatalf("device logins: %+v then %+v", a, b)
	}
	for _, bad := range []string{"short", strings.Repeat("x", 200), "has space 0123456"} {
		r := c.Do(t, "POST", "/auth/device", "", map[string]string{"device_id": bad})
		globaltest.MustStatus(t, r, http.StatusBadRequest)
	}
	// Concurrent first use of one device creates one player.
	var wg sync.WaitGroup
	ids := make([]string, 8)
	for i := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := c.Do(t, "POST", "/auth/device", "", map[string]string{"device_id": "shared-device-xyz-01"})
			var s identity.SessionResponse
			if r.Status == 200 || r.Status == 201 {
				_ = json.Unmarshal(r.Body, &s)
			}
			ids[i] = s.PlayerID
		}()
	}
	wg.Wait()
	for _, id := range ids {
		if id == "" || id != ids[0] {
			t.Fatalf("concurrent first use gave players %v", ids)
		}
	}
}

func TestRefreshRotationAndReuse(t *testing.T) {
	c := globaltest.Start(t)
	p := c.Guest(t)
	r := c.Do(t, "POST", "/auth/refresh", "", map[string]string{"refresh_token": p.Refresh})
	globaltest.MustStatus(t, r, http.StatusOK)
	var s1 identity.SessionResponse
	r.Decode(t, &s1)
	if s1.RefreshToken == p.Refresh {
		t.Fatal("refresh token did not rotate")
	}
	r = c.Do(t, "POST", "/auth/refresh", "", map[string]string{"refresh_token": s1.RefreshToken})
	globaltest.MustStatus(t, r, http.StatusOK)
	var s2 identity.SessionResponse
	r.Decode(t, &s2)

	// Replaying the first (rotated) token revokes the whole family, so even
	// the newest token dies.
	r = c.Do(t, "POST", "/auth/refresh", "", map[string]string{"refresh_token": p.Refresh})
	globaltest.MustStatus(t, r, http.StatusUnauthorized)
	r = c.Do(t, "POST", "/auth/refresh", "", map[string]string{"refresh_token": s2.RefreshToken})
	globaltest.MustStatus(t, r, http.StatusUnauthorized)
	var revoked, audits int
	ctx := context.Background()
	if err := c.DB.Pool.QueryRow(ctx, `SELECT count(*) FROM refresh_families WHERE player_id = $1 AND revoked_at IS NOT NULL`, p.ID).Scan(&revoked); err != nil || revoked != 1 {
		t.Fatalf("revoked families = %d (err %v), want 1", revoked, err)
	}
	if err := c.DB.Pool.QueryRow(ctx, `SELECT count(*) FROM audit_log WHERE kind = 'auth.refresh_reuse' AND player_id = $1`, p.ID).Scan(&audits); err != nil || audits != 1 {
		t.Fatalf("reuse audits = %d (err %v)", audits, err)
	}
	// Garbage, unknown and altered tokens.
	altered := []byte(s2.RefreshToken)
	altered[len(altered)/2] ^= 1
	for _, tok := range []string{"", "garbage", "art_unknown", string(altered)} {
		r = c.Do(t, "POST", "/auth/refresh", "", map[string]string{"refresh_token": tok})
		globaltest.MustStatus(t, r, http.StatusUnauthorized)
	}
}

func TestLogoutRevokesFamily(t *testing.T) {
	c := globaltest.Start(t)
	p := c.Guest(t)
	r := c.Do(t, "POST", "/auth/refresh", "", map[string]string{"refresh_token": p.Refresh})
	var s identity.SessionResponse
	r.Decode(t, &s)
	globaltest.MustStatus(t, c.Do(t, "POST", "/auth/logout", "", map[string]string{"refresh_token": s.RefreshToken}), http.StatusNoContent)
	globaltest.MustStatus(t, c.Do(t, "POST", "/auth/refresh", "", map[string]string{"refresh_token": s.RefreshToken}), http.StatusUnauthorized)
	// Unknown tokens answer the same, so logout cannot probe tokens.
	globaltest.MustStatus(t, c.Do(t, "POST", "/auth/logout", "", map[string]string{"refresh_token": "art_nope"}), http.StatusNoContent)
}

// A login's token was never stored (refresh tokens are self-contained):
// logging it out still ends its family, and only its family.
func TestLogoutOfUnrefreshedToken(t *testing.T) {
	c := globaltest.Start(t)
	var logins [2]identity.SessionResponse
	for i, want := range []int{http.StatusCreated, http.StatusOK} {
		r := c.Do(t, "POST", "/auth/device", "", map[string]string{"device_id": "logout-test-device"})
		globaltest.MustStatus(t, r, want)
		r.Decode(t, &logins[i])
	}
	first, second := logins[0], logins[1]
	globaltest.MustStatus(t, c.Do(t, "POST", "/auth/logout", "", map[string]string{"refresh_token": first.RefreshToken}), http.StatusNoContent)
	globaltest.MustStatus(t, c.Do(t, "POST", "/auth/refresh", "", map[string]string{"refresh_token": first.RefreshToken}), http.StatusUnauthorized)
	// The same device's other login is another family.
	globaltest.MustStatus(t, c.Do(t, "POST", "/auth/refresh", "", map[string]string{"refresh_token": second.RefreshToken}), http.StatusOK)
	var audits int
	if err := c.DB.Pool.QueryRow(context.Background(), `SELECT count(*) FROM audit_log WHERE kind = 'auth.logout' AND player_id = $1`, first.PlayerID).Scan(&audits); err != nil || audits != 1 {
		t.Fatalf("logout audits = %d (err %v)", audits, err)
	}
}

// One token presented by several clients at once is a reuse however the
// requests interleave: at most one gets a session, the family is revoked,
// and the session that one got dies with it.
func TestConcurrentRefreshOfOneToken(t *testing.T) {
	c := globaltest.Start(t)
	p := c.Guest(t)
	const racers = 6
	var wg sync.WaitGroup
	statuses := make([]int, racers)
	minted := make([]string, racers)
	for i := range racers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := c.Do(t, "POST", "/auth/refresh", "", map[string]string{"refresh_token": p.Refresh})
			statuses[i] = r.Status
			if r.Status == http.StatusOK {
				var s identity.SessionResponse
				r.Decode(t, &s)
				minted[i] = s.RefreshToken
			}
		}()
	}
	wg.Wait()
	ok := 0
	for i, st := range statuses {
		switch st {
		case http.StatusOK:
			ok++
			globaltest.MustStatus(t, c.Do(t, "POST", "/auth/refresh", "", map[string]string{"refresh_token": minted[i]}), http.StatusUnauthorized)
		case http.StatusUnauthorized:
		default:
			t.Fatalf("racer %d got %d", i, st)
		}
	}
	if ok != 1 {
		t.Fatalf("%d racers refreshed one token, want 1 (statuses %v)", ok, statuses)
	}
}

// forge signs claims with an arbitrary method, key and header.
func forge(t *testing.T, method jwt.SigningMethod, key any, kid string, claims jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(method, claims)
	if kid != "" {
		tok.Header["kid"] = kid
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestAccessTokenRejections(t *testing.T) {
	c := globaltest.Start(t)
	p := c.Guest(t)
	now := time.Now()
	claims := func(mut func(jwt.MapClaims)) jwt.MapClaims {
		m := jwt.MapClaims{"iss": c.URL, "sub": p.ID, "aud": []string{global.Audience}, "iat": now.Unix(), "nbf": now.Unix(),
			"exp": now.Add(10 * time.Minute).Unix(), "jti": "x", "token_use": tokens.TokenUseAccess}
		if mut != nil {
			mut(m)
		}
		return m
	}
	_, otherKey, _ := ed25519.GenerateKey(rand.Reader)
	kid := c.Keys.ActiveKID()
	parts := strings.Split(p.Access, ".")
	sig := []byte(parts[2])
	sig[5] ^= 1
	tampered := parts[0] + "." + parts[1] + "." + string(sig)
	payload, _ := json.Marshal(claims(nil))
	algNone := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT","kid":"`+kid+`"}`)) + "." + base64.RawURLEncoding.EncodeToString(payload) + "."

	// Forging with the real key requires access to it: sign through the ring's Sign via a
	// custom claims value, which is exactly what an insider bug would produce.
	signReal := func(m jwt.MapClaims) string {
		tok, err := c.Keys.Sign(&rawClaims{MapClaims: m})
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	cases := map[string]string{
		"expired":             signReal(claims(func(m jwt.MapClaims) { m["exp"] = now.Add(-time.Hour).Unix() })),
		"tampered":            tampered,
		"alg none":            algNone,
		"wrong kid":           forge(t, jwt.SigningMethodEdDSA, otherKey, "not-a-kid", claims(nil)),
		"right kid other key": forge(t, jwt.SigningMethodEdDSA, otherKey, kid, claims(nil)),
		"wrong issuer":        signReal(claims(func(m jwt.MapClaims) { m["iss"] = "https://evil.example" })),
		"wrong audience":      signReal(claims(func(m jwt.MapClaims) { m["aud"] = []string{"other"} })),
		"connect token":       signReal(claims(func(m jwt.MapClaims) { m["token_use"] = tokens.TokenUseConnect })),
		"hs256 with pub":      forge(t, jwt.SigningMethodHS256, []byte("public-key-as-secret"), kid, claims(nil)),
		"not a jwt":           "hello",
	}
	// Sanity: the untampered token works.
	globaltest.MustStatus(t, c.Do(t, "GET", "/player/me/export", p.Access, nil), http.StatusOK)
	for name, tok := range cases {
		t.Run(name, func(t *testing.T) {
			r := c.Do(t, "GET", "/player/me/export", tok, nil)
			if r.Status != http.StatusUnauthorized || r.ErrorCode() != "unauthenticated" {
				t.Fatalf("got %d %s, want 401 unauthenticated", r.Status, r.Body)
			}
		})
	}
	globaltest.MustStatus(t, c.Do(t, "GET", "/player/me/export", "", nil), http.StatusUnauthorized)
}

// rawClaims lets a test sign arbitrary claims with the core's real key.
type rawClaims struct{ jwt.MapClaims }

func (r *rawClaims) GetTokenUse() string { s, _ := r.MapClaims["token_use"].(string); return s }

func TestRateLimitsTrip(t *testing.T) {
	c := globaltest.Start(t, func(cfg *global.Config) {
		cfg.AuthRateLimit = "ip=100/min,burst=100;account=3/min,burst=3;register=2/min,burst=2"
	})
	c.Register(t, "dave", "dave@example.com", goodPassword)
	var last globaltest.Response
	for range 4 {
		last = c.Do(t, "POST", "/auth/login", "", map[string]string{"username": "dave", "password": "wrong password!"})
	}
	if last.Status != http.StatusTooManyRequests || last.Header.Get("Retry-After") == "" || last.ErrorCode() != "rate_limited" {
		t.Fatalf("4th login: %d %s (Retry-After %q)", last.Status, last.Body, last.Header.Get("Retry-After"))
	}
	// Another account from the same IP is not limited by dave's budget.
	r := c.Do(t, "POST", "/auth/login", "", map[string]string{"username": "erin", "password": "wrong password!"})
	globaltest.MustStatus(t, r, http.StatusUnauthorized)
	// Registration per IP: one already used above, one more allowed, then 429.
	globaltest.MustStatus(t, c.Do(t, "POST", "/auth/register", "", map[string]string{"username": "frank", "email": "f@example.com", "password": goodPassword}), http.StatusCreated)
	globaltest.MustStatus(t, c.Do(t, "POST", "/auth/register", "", map[string]string{"username": "grace", "email": "g@example.com", "password": goodPassword}), http.StatusTooManyRequests)
}

func TestExportAndDelete(t *testing.T) {
	c := globaltest.Start(t)
	p := c.Register(t, "heidi", "heidi@example.com", goodPassword)
	ctx := context.Background()
	// A session is stored once it is refreshed (a login's token is
	// self-contained), and then it is exported.
	r := c.Do(t, "POST", "/auth/refresh", "", map[string]string{"refresh_token": p.Refresh})
	globaltest.MustStatus(t, r, http.StatusOK)
	var refreshed identity.SessionResponse
	r.Decode(t, &refreshed)
	// And a session that was never refreshed must die with the account too.
	r = c.Do(t, "POST", "/auth/login", "", map[string]string{"username": "heidi", "password": goodPassword})
	globaltest.MustStatus(t, r, http.StatusOK)
	var unrefreshed identity.SessionResponse
	r.Decode(t, &unrefreshed)
	r = c.Do(t, "GET", "/player/me/export", p.Access, nil)
	globaltest.MustStatus(t, r, http.StatusOK)
	var ex map[string]any
	r.Decode(t, &ex)
	prof := ex["profile"].(map[string]any)
	if prof["email"] != "heidi@example.com" || prof["username"] != "heidi" {
		t.Fatalf("export profile %v", prof)
	}
	if sess := ex["sessions"].([]any); len(sess) != 1 {
		t.Fatalf("export sessions %v", sess)
	}
	if evs := ex["security_events"].([]any); len(evs) == 0 {
		t.Fatal("export has no security events")
	}

	globaltest.MustStatus(t, c.Do(t, "DELETE", "/player/me", p.Access, nil), http.StatusNoContent)
	var username string
	var emailEnc, emailIdx, pw *string
	var deleted *time.Time
	if err := c.DB.Pool.QueryRow(ctx, `SELECT username, email_enc, email_idx, password_hash, deleted_at FROM players WHERE id = $1`, p.ID).
		Scan(&username, &emailEnc, &emailIdx, &pw, &deleted); err != nil {
		t.Fatal(err)
	}
	if emailEnc != nil || emailIdx != nil || pw != nil || deleted == nil || username != "deleted-"+p.ID {
		t.Fatalf("tombstone keeps PII: user=%q email=%v idx=%v pw=%v deleted=%v", username, emailEnc, emailIdx, pw, deleted)
	}
	var live int
	if err := c.DB.Pool.QueryRow(ctx, `SELECT count(*) FROM refresh_families WHERE player_id = $1 AND revoked_at IS NULL`, p.ID).Scan(&live); err != nil || live != 0 {
		t.Fatalf("live refresh families after delete = %d (err %v)", live, err)
	}
	// The account is unusable: no login, no refresh, profile gone.
	globaltest.MustStatus(t, c.Do(t, "POST", "/auth/login", "", map[string]string{"username": "heidi", "password": goodPassword}), http.StatusUnauthorized)
	for _, tok := range []string{refreshed.RefreshToken, unrefreshed.RefreshToken} {
		globaltest.MustStatus(t, c.Do(t, "POST", "/auth/refresh", "", map[string]string{"refresh_token": tok}), http.StatusUnauthorized)
	}
	globaltest.MustStatus(t, c.Do(t, "GET", "/player/"+p.ID+"/profile", c.Guest(t).Access, nil), http.StatusNotFound)
	// The name is free again, the id is not reused.
	q := c.Register(t, "heidi", "heidi@example.com", goodPassword)
	if q.ID == p.ID {
		t.Fatal("id reused")
	}
}

func TestJWKSAndDiscovery(t *testing.T) {
	c := globaltest.Start(t)
	r := c.Do(t, "GET", "/.well-known/jwks.json", "", nil)
	globaltest.MustStatus(t, r, http.StatusOK)
	keys, err := tokens.ParseJWKS(r.Body)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := keys.Key(c.Keys.ActiveKID()); err != nil {
		t.Fatalf("active kid not published: %v", err)
	}
	r = c.Do(t, "GET", "/.well-known/openid-configuration", "", nil)
	globaltest.MustStatus(t, r, http.StatusOK)
	var d map[string]any
	r.Decode(t, &d)
	if d["issuer"] != c.URL || d["jwks_uri"] != c.URL+"/.well-known/jwks.json" {
		t.Fatalf("discovery %v", d)
	}
	// Unknown route and wrong method get the JSON envelope.
	r = c.Do(t, "GET", "/nope", "", nil)
	if r.Status != 404 || r.ErrorCode() != "not_found" {
		t.Fatalf("404: %d %s", r.Status, r.Body)
	}
	r = c.Do(t, "GET", "/auth/login", "", nil)
	if r.Status != 405 || r.ErrorCode() != "method_not_allowed" {
		t.Fatalf("405: %d %s", r.Status, r.Body)
	}
	for _, path := range []string{"/healthz", "/readyz", "/metrics"} {
		globaltest.MustStatus(t, c.Do(t, "GET", path, "", nil), http.StatusOK)
	}
}
