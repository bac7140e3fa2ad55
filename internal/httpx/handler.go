package httpx

import (
	"errors"
	"log/slog"
	"net/http"
)

// HandlerFunc is an HTTP handler that returns its error instead of writing it,
// so every route produces the same envelope.
type HandlerFunc func(w http.ResponseWriter, r *http.Request) error

// Handle adapts h to http.Handler. A returned *Error is written as is; any
// other error is logged with the route and answered with a bare 500.
func Handle(log *slog.Logger, h HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		err := h(w, r)
		if err == nil {
			return
		}
		var he *Error
		if !errors.As(err, &he) {
			log.ErrorContext(r.Context(), "request failed", "route", r.Pattern, "method", r.Method, "err", err)
		}
		WriteError(w, err)
	})
}
