package identity_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/atollgg/atoll/global/globaltest"
	"github.com/atollgg/atoll/internal/apispec"
)

// TestLiveResponsesMatchOpenAPI checks real answers of the identity and
// profile APIs, successes and errors, against their descriptions.
func TestLiveResponsesMatchOpenAPI(t *testing.T) {
	ctx := context.Background()
	ident, err := apispec.NewChecker(ctx, "openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	prof, err := apispec.NewChecker(ctx, "../players/openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	c := globaltest.Start(t)
	other := c.Guest(t)
	var sess struct {
		RefreshToken string `json:"refresh_token"`
		AccessToken  string `json:"access_token"`
	}
	reg := c.Do(t, "POST", "/auth/register", "", map[string]string{"username": "openapi_user", "email": "o@example.com", "password": goodPassword})
	globaltest.MustStatus(t, reg, http.StatusCreated)
	reg.Decode(t, &sess)
	type exchange struct {
		check               *apispec.Checker
		method, path, token string
		body                any
		status              int
	}
	exchanges := []exchange{
		{ident, "POST", "/auth/device", "", map[string]string{"device_id": "openapi-device-1"}, 201},
		{ident, "POST", "/auth/device", "", map[string]string{"device_id": "openapi-device-1"}, 200},
		{ident, "POST", "/auth/device", "", map[string]string{"device_id": ""}, 400},
		{ident, "POST", "/auth/register", "", map[string]string{"username": "openapi_user", "email": "o2@example.com", "password": goodPassword}, 409},
		{ident, "POST", "/auth/login", "", map[string]string{"username": "openapi_user", "password": goodPassword}, 200},
		{ident, "POST", "/auth/login", "", map[string]string{"username": "openapi_user", "password": "wrong password!"}, 401},
		{ident, "POST", "/auth/oidc", "", map[string]string{"id_token": "x.y.z"}, 404},
		{ident, "POST", "/auth/refresh", "", map[string]string{"refresh_token": sess.RefreshToken}, 200},
		{ident, "POST", "/auth/logout", "", map[string]string{"refresh_token": sess.RefreshToken}, 204},
		{prof, "GET", "/player/me/profile", sess.AccessToken, nil, 200},
		{prof, "GET", "/player/" + other.ID + "/profile", sess.AccessToken, nil, 200},
		{prof, "GET", "/player/me/profile", "", nil, 401},
		{prof, "PATCH", "/player/me", sess.AccessToken, map[string]any{"display_name": "Open API"}, 200},
		{prof, "PATCH", "/player/me", sess.AccessToken, map[string]any{}, 400},
		{prof, "GET", "/player/me/export", sess.AccessToken, nil, 200},
		{prof, "DELETE", "/player/me", other.Access, nil, 204},
	}
	for _, x := range exchanges {
		r := c.Do(t, x.method, x.path, x.token, x.body)
		if r.Status != x.status {
			t.Errorf("%s %s: %d %s, want %d", x.method, x.path, r.Status, r.Body, x.status)
			continue
		}
		req, err := http.NewRequestWithContext(ctx, x.method, c.URL+x.path, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := x.check.Check(ctx, req, r.Status, r.Header, r.Body); err != nil {
			t.Errorf("%v\nbody: %s", err, r.Body)
		}
	}
}
