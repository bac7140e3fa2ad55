package matchmaking

import (
	"github.com/prometheus/client_golang/prometheus"
)

type metrics struct {
	joined, matched, timedOut, cancelled, requeued, completed *prometheus.CounterVec
	allocations, events                                       *prometheus.CounterVec
	waited                                                    *prometheus.HistogramVec
	wsConns                                                   prometheus.Gauge
}

func newMetrics(s *Service, reg prometheus.Registerer) *metrics {
	counter := func(name, help string, labels ...string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{Name: "atoll_matchmaking_" + name, Help: help}, labels)
	}
	m := &metrics{
		joined:      counter("tickets_joined_total", "Tickets queued, by mode.", "mode"),
		matched:     counter("tickets_matched_total", "Tickets matched into an allocated session, by mode.", "mode"),
		timedOut:    counter("tickets_timed_out_total", "Tickets that waited past the mode's timeout, by mode.", "mode"),
		cancelled:   counter("tickets_cancelled_total", "Tickets cancelled by players, by mode.", "mode"),
		requeued:    counter("tickets_requeued_total", "Tickets put back in the queue after their session failed, by mode.", "mode"),
		completed:   counter("matches_completed_total", "match.completed events published, by mode.", "mode"),
		allocations: counter("allocations_total", "Server allocations by outcome (ok, no_capacity, error, commit_failed).", "outcome"),
		events:      counter("session_events_total", "Session events from the stream by result (applied, retried, invalid).", "result"),
		waited: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "atoll_matchmaking_queue_wait_seconds", Help: "Time from join to match, by mode.",
			// From instant matches to the longest default queue timeout.
			Buckets: []float64{.01, .05, .1, .25, .5, 1, 2.5, 5, 10, 20, 40, 80, 160},
		}, []string{"mode"}),
		wsConns: prometheus.NewGauge(prometheus.GaugeOpts{Name: "atoll_matchmaking_websockets", Help: "Open matchmaking WebSockets."}),
	}
	if reg != nil {
		queued := prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "atoll_matchmaking_queued_tickets", Help: "Tickets waiting in all modes."}, func() float64 {
			n := 0
			for _, p := range s.pools {
				n += p.Len()
			}
			return float64(n)
		})
		reg.MustRegister(m.joined, m.matched, m.timedOut, m.cancelled, m.requeued, m.completed, m.allocations, m.events, m.waited, m.wsConns, queued)
	}
	return m
}
