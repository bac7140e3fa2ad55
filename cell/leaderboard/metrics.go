package leaderboard

import "github.com/prometheus/client_golang/prometheus"

// metrics are the regional boards' counters; registered when Config.Registry
// is set.
type metrics struct {
	events    *prometheus.CounterVec // by result: applied, invalid
	snapshots *prometheus.CounterVec // by result: ok, error
}

func newMetrics(s *Service, reg prometheus.Registerer) *metrics {
	m := &metrics{
		events: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "atoll_leaderboard_events_total",
			Help: "match.completed events read by the regional boards, by result (applied, invalid: skipped)."}, []string{"result"}),
		snapshots: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "atoll_leaderboard_snapshots_total",
			Help: "Regional board snapshots written, by result (ok, error)."}, []string{"result"}),
	}
	if reg != nil {
		reg.MustRegister(m.events, m.snapshots,
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "atoll_leaderboard_applied_seq",
				Help: "The cell stream's sequence the regional boards include."}, func() float64 { return float64(s.LastSeq()) }))
	}
	return m
}
