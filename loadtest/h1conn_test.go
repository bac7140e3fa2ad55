package loadtest

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
)

func TestReadResponse(t *testing.T) {
	long := strings.Repeat("x", readBufferSize)
	tests := []struct {
		name      string
		in        string
		status    int
		keepAlive bool
		wantErr   bool
		rest      string // what must be left unread
	}{
		{name: "ok", in: "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhelloNEXT", status: 200, keepAlive: true, rest: "NEXT"},
		{name: "no reason phrase", in: "HTTP/1.1 201\r\nContent-Length: 0\r\n\r\n", status: 201, keepAlive: true},
		{name: "header case and spaces", in: "HTTP/1.1 429 Too Many\r\ncontent-length:   2  \r\nX: y\r\n\r\n{}", status: 429, keepAlive: true},
		{name: "connection close", in: "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n", status: 200},
		{name: "HTTP/1.0", in: "HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n", status: 200},
		{name: "204 without length", in: "HTTP/1.1 204 No Content\r\n\r\n", status: 204, keepAlive: true},
		{name: "bare LF", in: "HTTP/1.1 200 OK\nContent-Length: 1\n\nx", status: 200, keepAlive: true},
		{name: "no length", in: "HTTP/1.1 200 OK\r\n\r\nbody", wantErr: true},
		{name: "chunked", in: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", wantErr: true},
		{name: "conflicting lengths", in: "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nxx", wantErr: true},
		{name: "negative length", in: "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", wantErr: true},
		{name: "huge length", in: "HTTP/1.1 200 OK\r\nContent-Length: 99999999999\r\n\r\n", wantErr: true},
		{name: "short body", in: "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", wantErr: true},
		{name: "informational", in: "HTTP/1.1 100 Continue\r\n\r\n", wantErr: true},
		{name: "not HTTP", in: "SSH-2.0-OpenSSH\r\n", wantErr: true},
		{name: "bad code", in: "HTTP/1.1 2x0 OK\r\n\r\n", wantErr: true},
		{name: "glued reason", in: "HTTP/1.1 200OK\r\n\r\n", wantErr: true},
		{name: "header without colon", in: "HTTP/1.1 200 OK\r\nbroken\r\n\r\n", wantErr: true},
		{name: "line too long", in: "HTTP/1.1 200 OK\r\nX: " + long + "\r\n\r\n", wantErr: true},
		{name: "too many headers", in: "HTTP/1.1 200 OK\r\n" + strings.Repeat("X: y\r\n", maxHeaderLines) + "\r\n", wantErr: true},
		{name: "eof in headers", in: "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n", wantErr: true},
		{name: "empty", in: "", wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			br := bufio.NewReaderSize(strings.NewReader(tc.in), readBufferSize)
			status, keepAlive, err := readResponse(br)
			if tc.wantErr {
				if err == nil {
					t.Fatalf("accepted: status %d", status)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if status != tc.status || keepAlive != tc.keepAlive {
				t.Fatalf("status %d keepAlive %v, want %d %v", status, keepAlive, tc.status, tc.keepAlive)
			}
			if rest, _ := io.ReadAll(br); string(rest) != tc.rest {
				t.Fatalf("left %q unread, want %q", rest, tc.rest)
			}
		})
	}
}

func FuzzReadResponse(f *testing.F) {
	f.Add([]byte("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"))
	f.Add([]byte("HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n"))
	f.Add([]byte("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		br := bufio.NewReaderSize(strings.NewReader(string(data)), readBufferSize)
		status, _, err := readResponse(br)
		if err == nil && (status < 200 || status > 999) {
			t.Fatalf("accepted status %d", status)
		}
	})
}

// TestH1ConnAgainstNetHTTP posts through a real net/http server, which
// closes the connection every third request: the client must reconnect
// and never lose or mix up an answer.
func TestH1ConnAgainstNetHTTP(t *testing.T) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if r.Method != http.MethodPost || r.URL.Path != "/base/auth/device" || r.Header.Get("Content-Type") != "application/json" {
			http.Error(w, "bad request line", http.StatusBadRequest)
			return
		}
		if n.Add(1)%3 == 0 {
			w.Header().Set("Connection", "close")
		}
		w.WriteHeader(http.StatusCreated)
		_, _ = w.Write(body) // echo, so a desynchronised stream would show
	}))
	t.Cleanup(srv.Close)
	u, err := url.Parse(srv.URL + "/base")
	if err != nil {
		t.Fatal(err)
	}
	c := newH1Conn(u, "/base/auth/device")
	t.Cleanup(c.close)
	for i := range 10 {
		status, err := c.post(context.Background(), []byte(`{"device_id":"x"}`))
		if err != nil || status != http.StatusCreated {
			t.Fatalf("request %d: status %d, err %v", i, status, err)
		}
	}
	if got := n.Load(); got != 10 {
		t.Fatalf("server saw %d requests, want 10", got)
	}
}

// TestH1ConnCancel: ending the context unblocks a request the server never
// answers.
func TestH1ConnCancel(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(func() { close(release); srv.Close() })
	u, _ := url.Parse(srv.URL)
	c := newH1Conn(u, "/auth/device")
	t.Cleanup(c.close)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := c.post(ctx, []byte(`{}`))
		done <- err
	}()
	cancel()
	if err := <-done; err == nil || errors.Is(err, errMalformed) {
		t.Fatalf("post after cancel: %v, want a connection error", err)
	}
}
