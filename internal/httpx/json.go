package httpx

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
)

// DefaultMaxBody bounds request bodies for endpoints that do not choose their
// own limit: every Atoll JSON request is a few hundred bytes, so 64 KiB leaves
// ample headroom while keeping a flood of large bodies cheap to reject.
const DefaultMaxBody = 64 << 10

// WriteJSON writes v as JSON with the given status.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// NewJSONRequest builds a request to one of Atoll's JSON APIs, for its
// clients: body, unless nil, is sent as application/json (raw when it is a
// []byte, so tests can send malformed JSON, else marshalled), and bearer,
// unless empty, as the Authorization header.
func NewJSONRequest(ctx context.Context, method, url, bearer string, body any) (*http.Request, error) {
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		rd = bytes.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			return nil, fmt.Errorf("encode request body: %w", err)
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	return req, nil
}

// DecodeJSON strictly decodes one JSON object from r's body into dst: the body
// must be application/json, at most maxBytes long (0 means DefaultMaxBody),
// contain no unknown fields and nothing after the object. Failures are *Error
// values ready to be written.
func DecodeJSON(w http.ResponseWriter, r *http.Request, dst any, maxBytes int64) error {
	if maxBytes <= 0 {
		maxBytes = DefaultMaxBody
	}
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || mt != "application/json" {
			return &Error{Status: http.StatusUnsupportedMediaType, Code: CodeUnsupportedMedia, Message: "content type must be application/json"}
		}
	}
	if err := LimitBody(w, r, maxBytes); err != nil {
		return err
	}
	return decodeStrict(r.Body, dst)
}

// DecodeStrict decodes exactly one JSON value from rd into dst, rejecting
// unknown fields and trailing data. It is the decoder behind DecodeJSON,
// exported for fuzzing and for non-HTTP inputs.
func DecodeStrict(rd io.Reader, dst any) error { return decodeStrict(rd, dst) }

func decodeStrict(rd io.Reader, dst any) error {
	dec := json.NewDecoder(rd)
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return decodeError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return decodeError(err)
		}
		return BadRequest("request body must contain a single JSON object")
	}
	return nil
}

func decodeError(err error) error {
	var (
		mbe *http.MaxBytesError
		se  *json.SyntaxError
		te  *json.UnmarshalTypeError
	)
	switch {
	case errors.As(err, &mbe):
		return TooLarge(mbe.Limit)
	case errors.Is(err, io.EOF):
		return BadRequest("request body is empty")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return BadRequest("request body is truncated JSON")
	case errors.As(err, &se):
		return BadRequest("malformed JSON at offset %d", se.Offset)
	case errors.As(err, &te):
		if te.Field != "" {
			return BadRequest("field %q has the wrong type", te.Field)
		}
		return BadRequest("request body has the wrong JSON type")
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return BadRequest("unknown field %s", strings.TrimPrefix(err.Error(), "json: unknown field "))
	default:
		return BadRequest("malformed JSON body")
	}
}
