package httpx

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestExpectContinueTooLarge speaks raw HTTP/1.1 so the test sees exactly
// what a client such as curl sees: a declared body over the limit is
// answered 413 at once, never 100 Continue.
func TestExpectContinueTooLarge(t *testing.T) {
	const limit = 4 << 10
	srv := httptest.NewServer(Handle(slog.New(slog.DiscardHandler), func(w http.ResponseWriter, r *http.Request) error {
		var v map[string]any
		if err := DecodeJSON(w, r, &v, limit); err != nil {
			return err
		}
		WriteJSON(w, http.StatusOK, v)
		return nil
	}))
	t.Cleanup(srv.Close)

	tests := []struct {
		name     string
		length   int
		first    int // status of the first response line
		final    int // status after the body, when first is 100
		wantCode string
	}{
		{"declared 2 MB", 2 << 20, http.StatusRequestEntityTooLarge, 0, CodePayloadTooLarge},
		{"declared one byte over", limit + 1, http.StatusRequestEntityTooLarge, 0, CodePayloadTooLarge},
		{"within the limit", 64, http.StatusContinue, http.StatusOK, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			conn, err := net.Dial("tcp", srv.Listener.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { conn.Close() })
			fmt.Fprintf(conn, "POST /x HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\nContent-Length: %d\r\nExpect: 100-continue\r\n\r\n", tc.length)
			br := bufio.NewReader(conn)
			resp, err := http.ReadResponse(br, nil)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tc.first {
				t.Fatalf("first answer %s, want %d", resp.Status, tc.first)
			}
			if tc.first == http.StatusContinue {
				body := `{"pad":"` + strings.Repeat("a", tc.length-10) + `"}`
				if _, err := io.WriteString(conn, body); err != nil {
					t.Fatal(err)
				}
				if resp, err = http.ReadResponse(br, nil); err != nil {
					t.Fatal(err)
				}
				if resp.StatusCode != tc.final {
					t.Fatalf("final answer %s, want %d", resp.Status, tc.final)
				}
				return
			}
			var env envelope
			if err := json.NewDecoder(resp.Body).Decode(&env); err != nil || env.Error.Code != tc.wantCode {
				t.Fatalf("envelope %+v (%v), want code %s", env, err, tc.wantCode)
			}
		})
	}
}
