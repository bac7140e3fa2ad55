package httpx

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestCORS(t *testing.T) {
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusTeapot) })
	tests := []struct {
		name, origins, origin, method, reqMethod string
		wantStatus                               int
		wantAllow                                string
	}{
		{"no origin header", "https://play.example", "", "GET", "", 418, ""},
		{"listed origin", "https://play.example", "https://play.example", "POST", "", 418, "https://play.example"},
		{"unlisted origin", "https://play.example", "https://evil.example", "POST", "", 418, ""},
		{"preflight", "https://play.example", "https://play.example", "OPTIONS", "POST", 204, "https://play.example"},
		{"preflight unlisted", "https://play.example", "https://evil.example", "OPTIONS", "POST", 418, ""},
		{"wildcard", "*", "http://127.0.0.1:9000", "GET", "", 418, "http://127.0.0.1:9000"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := CORS([]string{tc.origins}, ok)
			r := httptest.NewRequest(tc.method, "/auth/device", nil)
			if tc.origin != "" {
				r.Header.Set("Origin", tc.origin)
			}
			if tc.reqMethod != "" {
				r.Header.Set("Access-Control-Request-Method", tc.reqMethod)
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != tc.wantStatus || w.Header().Get("Access-Control-Allow-Origin") != tc.wantAllow {
				t.Fatalf("status %d allow %q, want %d %q", w.Code, w.Header().Get("Access-Control-Allow-Origin"), tc.wantStatus, tc.wantAllow)
			}
			if w.Header().Get("Access-Control-Allow-Credentials") != "" {
				t.Fatal("credentials must never be allowed")
			}
		})
	}
}
