package loadtest

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"time"
)

// The load generator shares the machine with what it measures more often
// than not, so every microsecond it spends is taken from the server under
// test. net/http's client costs about as much CPU per request as the
// server's whole login path minus the signature (two goroutines and channel
// hand-offs per connection, a Request and Response per call); this client
// is one keep-alive HTTP/1.1 connection per virtual player that writes a
// prebuilt request and reads only the status, the length and the body,
// like wrk does.

// Response bounds: the answers load tests read are a few hundred bytes.
const (
	// maxResponseBody bounds a body the client will read and discard.
	maxResponseBody = 1 << 16
	// maxHeaderLines bounds the header block.
	maxHeaderLines = 64
	// readBufferSize is the connection's read buffer, and so the longest
	// status or header line accepted.
	readBufferSize = 4096
	// dialTimeout bounds connecting (and the TLS handshake).
	dialTimeout = 5 * time.Second
)

var errMalformed = errors.New("malformed HTTP response")

// h1Conn POSTs JSON bodies over one keep-alive HTTP/1.1 connection. It
// redials after any error, and is used by one goroutine at a time.
type h1Conn struct {
	target *url.URL
	head   []byte // request line and headers up to Content-Length's value
	conn   net.Conn
	br     *bufio.Reader
	stop   func() bool // ends the context watch of conn
	buf    []byte      // request scratch
}

func newH1Conn(target *url.URL, path string) *h1Conn {
	head := "POST " + path + " HTTP/1.1\r\nHost: " + target.Host +
		"\r\nContent-Type: application/json\r\nUser-Agent: atoll-loadtest\r\nContent-Length: "
	return &h1Conn{target: target, head: []byte(head)}
}

func (c *h1Conn) dial(ctx context.Context) error {
	host := c.target.Host
	if c.target.Port() == "" {
		if c.target.Scheme == "https" {
			host = net.JoinHostPort(c.target.Hostname(), "443")
		} else {
			host = net.JoinHostPort(c.target.Hostname(), "80")
		}
	}
	d := net.Dialer{Timeout: dialTimeout}
	conn, err := d.DialContext(ctx, "tcp", host)
	if err != nil {
		return err
	}
	if c.target.Scheme == "https" {
		tc := tls.Client(conn, &tls.Config{ServerName: c.target.Hostname(), MinVersion: tls.VersionTLS12, NextProtos: []string{"http/1.1"}})
		hctx, cancel := context.WithTimeout(ctx, dialTimeout)
		err := tc.HandshakeContext(hctx)
		cancel()
		if err != nil {
			_ = conn.Close()
			return err
		}
		conn = tc
	}
	c.conn = conn
	c.br = bufio.NewReaderSize(conn, readBufferSize)
	// The end of the run unblocks a request in flight at once.
	c.stop = context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
	return nil
}

func (c *h1Conn) close() {
	if c.conn != nil {
		c.stop()
		_ = c.conn.Close()
		c.conn, c.br = nil, nil
	}
}

// post sends body and returns the response status.
func (c *h1Conn) post(ctx context.Context, body []byte) (int, error) {
	if c.conn == nil {
		if err := c.dial(ctx); err != nil {
			return 0, err
		}
	}
	_ = c.conn.SetDeadline(time.Now().Add(requestTimeout))
	c.buf = append(c.buf[:0], c.head...)
	c.buf = strconv.AppendInt(c.buf, int64(len(body)), 10)
	c.buf = append(c.buf, "\r\n\r\n"...)
	c.buf = append(c.buf, body...)
	if _, err := c.conn.Write(c.buf); err != nil {
		c.close()
		return 0, err
	}
	status, keepAlive, err := readResponse(c.br)
	if err != nil || !keepAlive {
		c.close()
	}
	return status, err
}

// readResponse reads one response to a POST from br, discarding its body.
// It accepts what servers send to such a request: a Content-Length body,
// or none for 204 and 304. keepAlive is false when the server closes the
// connection after it.
func readResponse(br *bufio.Reader) (status int, keepAlive bool, err error) {
	line, err := br.ReadSlice('\n')
	if err != nil {
		return 0, false, fmt.Errorf("read status line: %w", err)
	}
	// "HTTP/1.1 200 OK\r\n"
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) || line[8] != ' ' || (len(line) > 12 && line[12] != ' ' && line[12] != '\r') {
		return 0, false, fmt.Errorf("%w: status line", errMalformed)
	}
	status, err = strconv.Atoi(string(line[9:12]))
	if err != nil || status < 100 {
		return 0, false, fmt.Errorf("%w: status code", errMalformed)
	}
	keepAlive = line[7] == '1'
	length := -1
	for n := 0; ; n++ {
		if n == maxHeaderLines {
			return 0, false, fmt.Errorf("%w: more than %d header lines", errMalformed, maxHeaderLines)
		}
		line, err = br.ReadSlice('\n')
		if err != nil {
			return 0, false, fmt.Errorf("read header: %w", err)
		}
		line = bytes.TrimRight(line, "\r\n")
		if len(line) == 0 {
			break
		}
		name, value, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			return 0, false, fmt.Errorf("%w: header line", errMalformed)
		}
		value = bytes.TrimSpace(value)
		switch {
		case bytes.EqualFold(name, []byte("Content-Length")):
			v, err := strconv.Atoi(string(value))
			if err != nil || v < 0 || (length >= 0 && v != length) {
				return 0, false, fmt.Errorf("%w: Content-Length", errMalformed)
			}
			length = v
		case bytes.EqualFold(name, []byte("Transfer-Encoding")):
			return 0, false, fmt.Errorf("%w: Transfer-Encoding is not supported", errMalformed)
		case bytes.EqualFold(name, []byte("Connection")) && bytes.EqualFold(value, []byte("close")):
			keepAlive = false
		}
	}
	switch {
	case status == 204 || status == 304 || status < 200:
		if status < 200 {
			return 0, false, fmt.Errorf("%w: informational response %d", errMalformed, status)
		}
		return status, keepAlive, nil
	case length < 0:
		return 0, false, fmt.Errorf("%w: no Content-Length", errMalformed)
	case length > maxResponseBody:
		return 0, false, fmt.Errorf("%w: body of %d bytes exceeds %d", errMalformed, length, maxResponseBody)
	}
	if _, err := br.Discard(length); err != nil {
		return 0, false, fmt.Errorf("read body: %w", err)
	}
	return status, keepAlive, nil
}
