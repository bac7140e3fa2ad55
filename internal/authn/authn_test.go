package authn

import (
	"net/http"
	"net/http/httptest"
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
