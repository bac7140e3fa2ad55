package identity

import (
	"log/slog"
	"net/http"

	"github.com/atollgg/atoll/internal/httpx"
)

// Routes registers the /auth endpoints on mux; wrap adds the shared middleware.
func (s *Service) Routes(mux *http.ServeMux, wrap func(http.Handler) http.Handler) {
	h := func(f httpx.HandlerFunc) http.Handler { return wrap(httpx.Handle(s.cfg.Log, f)) }
	mux.Handle("POST /auth/register", h(s.register))
	mux.Handle("POST /auth/login", h(s.login))
	mux.Handle("POST /auth/device", h(s.device))
	mux.Handle("POST /auth/refresh", h(s.refresh))
	mux.Handle("POST /auth/logout", h(s.logout))
	mux.Handle("POST /auth/oidc", h(s.oidcLogin))
}

func (s *Service) log() *slog.Logger { return s.cfg.Log }
