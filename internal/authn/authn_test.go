package authn

import (
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"

	"github.com/atollgg/atoll/internal/httpx"
	"github.com/atollgg/atoll/internal/obs"
)

func TestParseSecrets(t *testing.T) {
	tests := []struct {
		spec    string
		want    int
		wantErr bool
	}{
		{"", 0, false},
		{"eu-1=0123456789abcdef", 1, false},
		{"eu-1=0123456789abcdef, us-1=fedcba9876543210", 2, false},
		{"eu-1=short", 0, true},
		{"no-equals", 0, true},
		{"bad id!=0123456789abcdef", 0, true},
		{"a=0123456789abcdef,a=0123456789abcdeg", 0, true},
	}
	for _, tc := range tests {
		s, err := ParseSecrets(tc.spec)
		if (err != nil) != tc.wantErr || (err == nil && len(s) != tc.want) {
			t.Errorf("ParseSecrets(%q) = %v, %v", tc.spec, s, err)
		}
	}
}

func TestServiceAndAdmin(t *testing.T) {
	secrets := Secrets{"cell-a": "0123456789abcdef", "cell-b": "fedcba9876543210"}
	h := func(mw Middleware) http.Handler {
		return httpx.Handle(obs.Discard(), mw(func(w http.ResponseWriter, r *http.Request) error {
			id, _ := ServiceFrom(r.Context())
			w.Header().Set("X-Principal", id)
			return nil
		}))
	}
	tests := []struct {
		name, bearer string
		mw           Middleware
		code         int
		principal    string
	}{
		{"cell b", "fedcba9876543210", Service(secrets), 200, "cell-b"},
		{"wrong secret", "fedcba9876543211", Service(secrets), 401, ""},
		{"missing", "", Service(secrets), 401, ""},
		{"admin ok", "admin-token-0123456789", Admin("admin-token-0123456789"), 200, "admin"},
		{"admin wrong", "admin-token-012345678", Admin("admin-token-0123456789"), 401, ""},
		{"admin disabled", "", Admin(""), 403, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			if tc.bearer != "" {
				r.Header.Set("Authorization", "Bearer "+tc.bearer)
			}
			w := httptest.NewRecorder()
			h(tc.mw).ServeHTTP(w, r)
			if w.Code != tc.code || w.Header().Get("X-Principal") != tc.principal {
				t.Fatalf("got %d %q, want %d %q: %s", w.Code, w.Header().Get("X-Principal"), tc.code, tc.principal, w.Body)
			}
		})
	}
}

func TestParseCredentials(t *testing.T) {
	tests := []struct {
		spec    string
		wantErr bool
		id      string
		perms   Permissions
	}{
		{"eu-1=0123456789abcdef", false, "eu-1", DefaultScopes()},
		{"eu-1=0123456789abcdef ratings:read", false, "eu-1", Permissions{Scopes: []string{ScopeRatingsRead}}},
		{"eu-1=0123456789abcdef  results:apply grant:coins:500 grant:tokens:0", false, "eu-1",
			Permissions{Scopes: []string{ScopeResultsApply}, GrantCaps: map[string]int64{"coins": 500, "tokens": 0}}},
		{"scorer=0123456789abcdef leaderboards:grant", false, "scorer", Permissions{Scopes: []string{ScopeLeaderboardsGrant}}},
		{"eu-1=0123456789abcdef admin:all", true, "", Permissions{}},
		{"eu-1=0123456789abcdef grant:coins", true, "", Permissions{}},
		{"eu-1=0123456789abcdef grant:coins:-1", true, "", Permissions{}},
		{"eu-1=0123456789abcdef grant:coins:1 grant:coins:2", true, "", Permissions{}},
		{"eu-1= ratings:read", true, "", Permissions{}},
	}
	for _, tc := range tests {
		secrets, scopes, err := ParseCredentials(tc.spec)
		if (err != nil) != tc.wantErr {
			t.Errorf("ParseCredentials(%q): %v", tc.spec, err)
			continue
		}
		if err != nil {
			continue
		}
		if secrets[tc.id] != "0123456789abcdef" {
			t.Errorf("ParseCredentials(%q): secret %q", tc.spec, secrets[tc.id])
		}
		got := scopes.For(tc.id)
		if !slices.Equal(got.Scopes, tc.perms.Scopes) || !maps.Equal(got.GrantCaps, tc.perms.GrantCaps) {
			t.Errorf("ParseCredentials(%q): %+v, want %+v", tc.spec, got, tc.perms)
		}
	}
}

func TestServiceScoped(t *testing.T) {
	secrets := Secrets{"full": "0123456789abcdef", "ro": "fedcba9876543210"}
	scopes := Scopes{"ro": {Scopes: []string{ScopeRatingsRead}}}
	h := httpx.Handle(obs.Discard(), ServiceScoped(secrets, scopes, ScopeResultsApply)(func(w http.ResponseWriter, r *http.Request) error {
		p, _ := PermissionsFrom(r.Context())
		if p.GrantCap("coins") != DefaultRewardCap {
			t.Errorf("default cap %d", p.GrantCap("coins"))
		}
		return nil
	}))
	for _, tc := range []struct {
		bearer string
		code   int
		errc   string
	}{
		{"0123456789abcdef", 200, ""},
		{"fedcba9876543210", 403, httpx.CodePermissionDenied},
		{"nope-nope-nope-nope", 401, httpx.CodeUnauthenticated},
	} {
		r := httptest.NewRequest("POST", "/", nil)
		r.Header.Set("Authorization", "Bearer "+tc.bearer)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != tc.code || httpx.ParseError(w.Code, w.Body.Bytes()).Code != tc.errc {
			t.Errorf("bearer %q: %d %s, want %d %s", tc.bearer, w.Code, w.Body, tc.code, tc.errc)
		}
	}
}
