package matchmaking

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
)

// Buffers of a hijacked WebSocket connection. net/http hands a hijacker its
// 4 KiB request reader and a new 4 KiB writer, which the WebSocket keeps for
// its whole life: 8 KiB per idle player, the largest part of its memory.
// Frames on /ws are small (a frame header is at most 14 bytes, a client
// message at most MaxWSMessage, a status a few hundred bytes) and bufio
// passes larger reads and writes straight through, so small buffers only
// cost a few more system calls for the rare large frame.
const (
	wsReadBuffer  = 512
	wsWriteBuffer = 512
)

// smallBufWriter is an http.ResponseWriter whose Hijack swaps net/http's
// buffers for wsReadBuffer and wsWriteBuffer ones.
type smallBufWriter struct {
	http.ResponseWriter
}

func (w smallBufWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w smallBufWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	conn, brw, err := http.NewResponseController(w.ResponseWriter).Hijack()
	if err != nil {
		return nil, nil, err
	}
	if err := brw.Writer.Flush(); err != nil {
		conn.Close()
		return nil, nil, fmt.Errorf("flush before hijack: %w", err)
	}
	var r io.Reader = conn
	if n := brw.Reader.Buffered(); n > 0 {
		// Bytes the client sent after its request (its first frames).
		b, _ := brw.Reader.Peek(n)
		r = io.MultiReader(bytes.NewReader(bytes.Clone(b)), conn)
	}
	return conn, bufio.NewReadWriter(bufio.NewReaderSize(r, wsReadBuffer), bufio.NewWriterSize(conn, wsWriteBuffer)), nil
}
