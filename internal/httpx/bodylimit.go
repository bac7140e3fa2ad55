package httpx

import (
	"fmt"
	"net/http"
)

// LimitBody bounds r's body to maxBytes (0 means DefaultMaxBody). A body
// whose declared Content-Length already exceeds the bound is refused with
// 413 before a byte of it is read, so a client that sent
// "Expect: 100-continue" gets its 413 instead of a 100 Continue followed by
// a connection closed mid-upload. A body of unknown length (chunked) is
// cut off at the bound while it is read.
func LimitBody(w http.ResponseWriter, r *http.Request, maxBytes int64) error {
	if maxBytes <= 0 {
		maxBytes = DefaultMaxBody
	}
	if r.ContentLength > maxBytes {
		// The unread body poisons the connection; say so, so the client
		// does not reuse it.
		w.Header().Set("Connection", "close")
		return TooLarge(maxBytes)
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxBytes)
	return nil
}

// TooLarge is the 413 payload_too_large for a body bound of limit bytes.
func TooLarge(limit int64) *Error {
	return &Error{Status: http.StatusRequestEntityTooLarge, Code: CodePayloadTooLarge, Message: fmt.Sprintf("request body larger than %d bytes", limit)}
}
