package httpx

import (
	"bufio"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"time"
)

// Recover turns a panicking handler into a logged 500 envelope: one bad
// request must never take the process down.
func Recover(log *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				log.ErrorContext(r.Context(), "handler panic", "route", r.Pattern, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
				WriteError(w, errors.New("panic"))
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// StatusRecorder remembers the status a handler wrote, for logs and metrics.
type StatusRecorder struct {
	http.ResponseWriter
	Status int
	Bytes  int
}

// WriteHeader records the status.
func (s *StatusRecorder) WriteHeader(code int) {
	if s.Status == 0 {
		s.Status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *StatusRecorder) Write(b []byte) (int, error) {
	if s.Status == 0 {
		s.Status = http.StatusOK
	}
	n, err := s.ResponseWriter.Write(b)
	s.Bytes += n
	return n, err
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (s *StatusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// Hijack supports WebSocket upgrades through the recorder.
func (s *StatusRecorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	h, ok := s.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, errors.New("response writer does not support hijacking")
	}
	if s.Status == 0 {
		s.Status = http.StatusSwitchingProtocols
	}
	return h.Hijack()
}

// Flush supports streaming responses through the recorder.
func (s *StatusRecorder) Flush() {
	if f, ok := s.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// AccessLog logs one line per request at debug level (errors at warn). It
// logs the route pattern, never the raw URL or headers, so tokens in query
// strings or Authorization headers cannot reach the logs.
func AccessLog(log *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &StatusRecorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		lvl := slog.LevelDebug
		if rec.Status >= 500 {
			lvl = slog.LevelWarn
		}
		if !log.Enabled(r.Context(), lvl) {
			return
		}
		log.Log(r.Context(), lvl, "http request", "method", r.Method, "route", r.Pattern, "status", rec.Status, "bytes", rec.Bytes, "duration_ms", float64(time.Since(start).Microseconds())/1000)
	})
}
