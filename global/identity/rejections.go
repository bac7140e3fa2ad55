package identity

import (
	"context"
	"strings"

	"github.com/atollgg/atoll/global/audit"
	"github.com/prometheus/client_golang/prometheus"
)

// rejections counts every refused auth request in metrics and audits at most
// one per key per window, so a flood of 429s, unknown-account logins or bad
// id_tokens costs the database a row a minute, not a row a request.
type rejections struct {
	dedupe *audit.Dedupe
	total  *prometheus.CounterVec
}

func newRejections(reg prometheus.Registerer) *rejections {
	r := &rejections{dedupe: audit.NewDedupe(0, 0), total: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "atoll_identity_rejections_total",
		Help: "Auth requests refused, by audit kind and reason (rate limits, failed logins, rejected OIDC tokens).",
	}, []string{"kind", "reason"})}
	if reg != nil {
		reg.MustRegister(r.total)
	}
	return r
}

// reject counts a refusal and audits it unless one with the same kind,
// reason and player was audited this window. reason must be from a small
// fixed set: it is a metric label. Best effort: a failing audit write must
// not turn a refusal into a 500.
func (s *Service) reject(ctx context.Context, kind, playerID, reason string, details map[string]any) {
	s.rejected.total.WithLabelValues(kind, reason).Inc()
	if !s.rejected.dedupe.First(strings.Join([]string{kind, reason, playerID}, "|"), s.now()) {
		return
	}
	if err := audit.Write(ctx, s.db.Pool, audit.Event{Kind: kind, PlayerID: playerID, Actor: "player", Details: details}); err != nil {
		s.log().WarnContext(ctx, "audit write failed", "kind", kind, "err", err)
	}
}
