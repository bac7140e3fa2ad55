package identity

import (
	"context"
	"net/http"

	"github.com/atollgg/atoll/global/audit"
	"github.com/atollgg/atoll/internal/httpx"
	"github.com/atollgg/atoll/internal/ratelimit"
)

// allow checks the per-IP limiter and, when account is non-empty, the
// per-account one. Both are checked so a distributed attack on one account
// and one IP spraying many accounts both trip.
func (s *Service) allow(r *http.Request, lim *ratelimit.Limiter, route, account string) error {
	if s.cfg.Limits.Off {
		return nil
	}
	now := s.now()
	ip := httpx.ClientIP(r, s.cfg.Limits.Trusted)
	if ok, retry := lim.Allow(route+"|ip|"+ip, now); !ok {
		s.recordLimited(r.Context(), route, "ip")
		return httpx.TooManyRequests(retry)
	}
	if account != "" {
		if ok, retry := s.acctLimit.Allow(route+"|acct|"+account, now); !ok {
			s.recordLimited(r.Context(), route, "account")
			return httpx.TooManyRequests(retry)
		}
	}
	return nil
}

func (s *Service) recordLimited(ctx context.Context, route, scope string) {
	s.reject(ctx, audit.RateLimited, "", route+":"+scope, map[string]any{"route": route, "scope": scope})
}
