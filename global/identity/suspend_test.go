package identity_test

import (
	"net/http"
	"testing"

	"github.com/atollgg/atoll/global/globaltest"
	"github.com/atollgg/atoll/global/identity"
	"github.com/google/uuid"
)

// TestSuspension suspends a password player through the admin API: login
// and refresh answer 403 account_suspended until the suspension is lifted.
func TestSuspension(t *testing.T) {
	c := globaltest.Start(t)
	p := c.Register(t, "suspect", "suspect@example.com", goodPassword)
	path := "/admin/players/" + p.ID + "/suspension"
	for _, tc := range []struct {
		name, method, path, token string
		status                    int
	}{
		{"no admin token", "POST", path, "", http.StatusUnauthorized},
		{"player token", "POST", path, p.Access, http.StatusUnauthorized},
		{"not a uuid", "POST", "/admin/players/bob/suspension", globaltest.AdminToken, http.StatusBadRequest},
		{"unknown player", "POST", "/admin/players/" + uuid.NewString() + "/suspension", globaltest.AdminToken, http.StatusNotFound},
		{"lift when not suspended", "DELETE", path, globaltest.AdminToken, http.StatusNotFound},
		{"suspend", "POST", path, globaltest.AdminToken, http.StatusNoContent},
		{"suspend again", "POST", path, globaltest.AdminToken, http.StatusNoContent},
	} {
		t.Run(tc.name, func(t *testing.T) {
			globaltest.MustStatus(t, c.Do(t, tc.method, tc.path, tc.token, map[string]string{"reason": "test"}), tc.status)
		})
	}
	login := map[string]string{"username": "suspect", "password": goodPassword}
	for name, call := range map[string]func() globaltest.Response{
		"login": func() globaltest.Response { return c.Do(t, "POST", "/auth/login", "", login) },
		"refresh": func() globaltest.Response {
			return c.Do(t, "POST", "/auth/refresh", "", map[string]string{"refresh_token": p.Refresh})
		},
	} {
		if r := call(); r.Status != http.StatusForbidden || r.ErrorCode() != identity.CodeAccountSuspended {
			t.Fatalf("%s while suspended: %d %s", name, r.Status, r.Body)
		}
	}
	globaltest.MustStatus(t, c.Do(t, "DELETE", path, globaltest.AdminToken, nil), http.StatusNoContent)
	globaltest.MustStatus(t, c.Do(t, "POST", "/auth/login", "", login), http.StatusOK)
	if n := countAudit(t, c, p.ID); n < 2 {
		t.Fatalf("%d admin audit records, want the suspension and its lifting", n)
	}
}

func countAudit(t *testing.T, c *globaltest.Core, player string) int {
	t.Helper()
	var n int
	if err := c.DB.Pool.QueryRow(t.Context(), `SELECT count(*) FROM audit_log WHERE kind = 'admin.action' AND player_id = $1`, player).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}
