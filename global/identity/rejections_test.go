package identity_test

import (
	"context"
	"encoding/base64"
	"net/http"
	"testing"
	"time"

	"github.com/atollgg/atoll/global"
	"github.com/atollgg/atoll/global/audit"
	"github.com/atollgg/atoll/global/globaltest"
	"github.com/atollgg/atoll/global/identity"
)

// TestRejectionsCostTheDatabaseLittle floods the three rejections that used
// to write an audit row each: they are all counted in metrics, audited once
// per key per window.
func TestRejectionsCostTheDatabaseLittle(t *testing.T) {
	const flood = 30
	c := globaltest.Start(t, func(cfg *global.Config) {
		cfg.AuthRateLimit = "ip=1000/min,burst=1000;account=3/min,burst=3;register=10/min"
		cfg.OIDC = []identity.OIDCProvider{{Issuer: "https://idp.example.invalid", ClientID: "my-game"}}
	})
	foreign := "e30." + base64.RawURLEncoding.EncodeToString([]byte(`{"iss":"https://evil.example"}`)) + ".c2ln"
	var statuses = map[int]int{}
	for range flood {
		statuses[c.Do(t, "POST", "/auth/login", "", map[string]string{"username": "nobody", "password": "wrong password!"}).Status]++
		statuses[c.Do(t, "POST", "/auth/oidc", "", map[string]string{"id_token": foreign}).Status]++
	}
	if statuses[http.StatusTooManyRequests] != flood-3 || statuses[http.StatusUnauthorized] != flood+3 {
		t.Fatalf("statuses %v", statuses)
	}
	for _, tc := range []struct {
		kind string
		rows int
	}{
		{audit.LoginFailed, 1},
		{audit.RateLimited, 1},
		{audit.IdentityRejected, 1},
	} {
		var n int
		if err := c.DB.Pool.QueryRow(context.Background(), `SELECT count(*) FROM audit_log WHERE kind = $1`, tc.kind).Scan(&n); err != nil || n != tc.rows {
			t.Errorf("%s: %d audit rows (%v), want %d", tc.kind, n, err, tc.rows)
		}
	}
	got := rejectionCounts(t, c)
	want := map[string]float64{
		audit.LoginFailed + "/unknown_account":     3,
		audit.RateLimited + "/login:account":       flood - 3,
		audit.IdentityRejected + "/unknown_issuer": flood,
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("atoll_identity_rejections_total{%s} = %v, want %v (all: %v)", k, got[k], v, got)
		}
	}
}

func rejectionCounts(t *testing.T, c *globaltest.Core) map[string]float64 {
	t.Helper()
	mfs, err := c.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		if mf.GetName() != "atoll_identity_rejections_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			l := map[string]string{}
			for _, lp := range m.GetLabel() {
				l[lp.GetName()] = lp.GetValue()
			}
			out[l["kind"]+"/"+l["reason"]] = m.GetCounter().GetValue()
		}
	}
	return out
}

func TestAuditPrune(t *testing.T) {
	c := globaltest.Start(t)
	ctx := context.Background()
	now := time.Now()
	for i, age := range []time.Duration{400 * 24 * time.Hour, 200 * 24 * time.Hour, time.Hour, 0} {
		if _, err := c.DB.Pool.Exec(ctx, `INSERT INTO audit_log (kind, actor, at) VALUES ('test.prune', 'system', $1)`, now.Add(-age)); err != nil {
			t.Fatal(i, err)
		}
	}
	n, err := audit.Prune(ctx, c.DB, now.Add(-audit.DefaultRetention))
	if err != nil || n != 2 {
		t.Fatalf("pruned %d (%v), want the 2 rows older than the retention", n, err)
	}
	var left int
	if err := c.DB.Pool.QueryRow(ctx, `SELECT count(*) FROM audit_log WHERE kind = 'test.prune'`).Scan(&left); err != nil || left != 2 {
		t.Fatalf("%d rows left (%v), want 2", left, err)
	}
}
