package matchmaking

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
)

// TestSmallBufWriterKeepsEarlyBytes: bytes a client sends right behind its
// request (read into net/http's buffer before the hijack) still reach the
// reader of the small buffers, and writes reach the client.
func TestSmallBufWriterKeepsEarlyBytes(t *testing.T) {
	const early = "frames sent with the request"
	got := make(chan string, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, brw, err := smallBufWriter{w}.Hijack()
		if err != nil {
			t.Error(err)
			got <- ""
			return
		}
		defer conn.Close()
		if brw.Reader.Size() != wsReadBuffer || brw.Writer.Size() != wsWriteBuffer {
			t.Errorf("buffer sizes %d/%d, want %d/%d", brw.Reader.Size(), brw.Writer.Size(), wsReadBuffer, wsWriteBuffer)
		}
		b := make([]byte, len(early))
		if _, err := io.ReadFull(brw, b); err != nil {
			t.Error(err)
		}
		got <- string(b)
		brw.WriteString("pong\n")
		if err := brw.Flush(); err != nil {
			t.Error(err)
		}
	}))
	t.Cleanup(srv.Close)

	c, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	// Request and early bytes in one write, so the server reads both at once.
	if _, err := io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n"+early); err != nil {
		t.Fatal(err)
	}
	if s := <-got; s != early {
		t.Fatalf("server read %q, want %q", s, early)
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil || line != "pong\n" {
		t.Fatalf("client read %q, %v", line, err)
	}
}
