package httpx

import "net/http"

// JSONFallback serves mux, answering unknown routes (404) and wrong methods
// (405, with Allow) with the JSON envelope instead of the mux's plain text.
func JSONFallback(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h, pattern := mux.Handler(r)
		if pattern != "" {
			mux.ServeHTTP(w, r)
			return
		}
		rec := &discard{h: http.Header{}}
		h.ServeHTTP(rec, r)
		switch rec.code {
		case http.StatusMethodNotAllowed:
			w.Header().Set("Allow", rec.h.Get("Allow"))
			WriteError(w, Errorf(http.StatusMethodNotAllowed, CodeMethodNotAllowed, "method %s not allowed on this route", r.Method))
		case http.StatusMovedPermanently, http.StatusPermanentRedirect, http.StatusTemporaryRedirect, http.StatusFound:
			mux.ServeHTTP(w, r)
		default:
			WriteError(w, NotFound("no such route"))
		}
	})
}

type discard struct {
	h    http.Header
	code int
}

func (d *discard) Header() http.Header         { return d.h }
func (d *discard) Write(b []byte) (int, error) { return len(b), nil }
func (d *discard) WriteHeader(c int)           { d.code = c }
