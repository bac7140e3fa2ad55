package httpx

import (
	"context"
	"io"
	"net/http"
	"testing"
)

func TestNewJSONRequest(t *testing.T) {
	tests := []struct {
		name, bearer     string
		body             any
		wantBody, wantCT string
		wantAuth         string
	}{
		{name: "no body", wantAuth: ""},
		{name: "raw bytes", body: []byte(`{"broken"`), wantBody: `{"broken"`, wantCT: "application/json"},
		{name: "marshalled", bearer: "tok", body: map[string]int{"a": 1}, wantBody: `{"a":1}`, wantCT: "application/json", wantAuth: "Bearer tok"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, err := NewJSONRequest(context.Background(), http.MethodPost, "http://example.invalid/x", tc.bearer, tc.body)
			if err != nil {
				t.Fatal(err)
			}
			var got []byte
			if req.Body != nil {
				got, _ = io.ReadAll(req.Body)
			}
			if string(got) != tc.wantBody || req.Header.Get("Content-Type") != tc.wantCT || req.Header.Get("Authorization") != tc.wantAuth {
				t.Fatalf("body %q, content type %q, authorization %q", got, req.Header.Get("Content-Type"), req.Header.Get("Authorization"))
			}
		})
	}
	if _, err := NewJSONRequest(context.Background(), http.MethodPost, "http://example.invalid/x", "", make(chan int)); err == nil {
		t.Fatal("an unencodable body was accepted")
	}
}
