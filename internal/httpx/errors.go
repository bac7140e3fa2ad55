package httpx

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// Stable error codes. Clients switch on these, so they never change meaning.
const (
	CodeInvalidArgument  = "invalid_argument"
	CodeUnauthenticated  = "unauthenticated"
	CodePermissionDenied = "permission_denied"
	CodeNotFound         = "not_found"
	CodeMethodNotAllowed = "method_not_allowed"
	CodeConflict         = "conflict"
	CodeAlreadyExists    = "already_exists"
	CodePayloadTooLarge  = "payload_too_large"
	CodeUnsupportedMedia = "unsupported_media_type"
	CodeRateLimited      = "rate_limited"
	CodeUnavailable      = "unavailable"
	CodeInternal         = "internal"
)

// Error is an error that maps to an HTTP status and a stable code. Handlers
// return it; the adapter writes it as the envelope
// {"error":{"code":"...","message":"..."}}.
type Error struct {
	Status  int
	Code    string
	Message string
	// RetryAfter, when non-zero, is sent as the Retry-After header (429/503).
	RetryAfter time.Duration
	// Details is optional machine-readable context; nil omits it.
	Details map[string]any
}

func (e *Error) Error() string { return fmt.Sprintf("%d %s: %s", e.Status, e.Code, e.Message) }

// Errorf builds an *Error with a formatted message.
func Errorf(status int, code, format string, args ...any) *Error {
	return &Error{Status: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

// BadRequest is a 400 invalid_argument.
func BadRequest(format string, args ...any) *Error {
	return Errorf(http.StatusBadRequest, CodeInvalidArgument, format, args...)
}

// Unauthenticated is a 401; the message never says which part of a credential was wrong.
func Unauthenticated(msg string) *Error {
	return &Error{Status: http.StatusUnauthorized, Code: CodeUnauthenticated, Message: msg}
}

// Forbidden is a 403 permission_denied.
func Forbidden(msg string) *Error {
	return &Error{Status: http.StatusForbidden, Code: CodePermissionDenied, Message: msg}
}

// NotFound is a 404.
func NotFound(msg string) *Error {
	return &Error{Status: http.StatusNotFound, Code: CodeNotFound, Message: msg}
}

// Conflict is a 409 with the given code (conflict or already_exists).
func Conflict(code, msg string) *Error {
	return &Error{Status: http.StatusConflict, Code: code, Message: msg}
}

// TooManyRequests is a 429 carrying Retry-After.
func TooManyRequests(retryAfter time.Duration) *Error {
	return &Error{Status: http.StatusTooManyRequests, Code: CodeRateLimited, Message: "too many requests, retry later", RetryAfter: retryAfter}
}

// Unavailable is a 503, e.g. a dependency that is down.
func Unavailable(msg string) *Error {
	return &Error{Status: http.StatusServiceUnavailable, Code: CodeUnavailable, Message: msg}
}

type envelope struct {
	Error envelopeBody `json:"error"`
}

type envelopeBody struct {
	Code    string         `json:"code"`
	Message string         `json:"message"`
	Details map[string]any `json:"details,omitempty"`
}

// ParseError reads the envelope of an error answer with the given status,
// for the clients of Atoll's APIs. A body that is not an envelope (a proxy's
// error page, say) leaves Code and Message empty: the status still says
// what happened.
func ParseError(status int, body []byte) *Error {
	var env envelope
	_ = json.Unmarshal(body, &env)
	return &Error{Status: status, Code: env.Error.Code, Message: env.Error.Message, Details: env.Error.Details}
}

// WriteError writes err as the JSON envelope. Errors that are not *Error
// become a 500 whose message reveals nothing internal.
func WriteError(w http.ResponseWriter, err error) {
	var he *Error
	if !errors.As(err, &he) {
		he = &Error{Status: http.StatusInternalServerError, Code: CodeInternal, Message: "internal error"}
	}
	if he.RetryAfter > 0 {
		secs := int((he.RetryAfter + time.Second - 1) / time.Second)
		w.Header().Set("Retry-After", strconv.Itoa(secs))
	}
	WriteJSON(w, he.Status, envelope{Error: envelopeBody{Code: he.Code, Message: he.Message, Details: he.Details}})
}
