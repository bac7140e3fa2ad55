package telemetry

import "github.com/prometheus/client_golang/prometheus"

// metrics are the sink's Prometheus metrics.
type metrics struct {
	batches     *prometheus.CounterVec
	events      *prometheus.CounterVec
	lag         prometheus.Gauge
	flags       *prometheus.CounterVec
	suspensions prometheus.Counter
	ruleSkipped prometheus.Counter
	expired     prometheus.Counter
	// copyConflicts counts COPYs that met a stored event (a redelivery)
	// and went through staging instead.
	copyConflicts prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		batches: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "atoll_telemetry_sink_batches_total",
			Help: "Telemetry batches by result (stored, failed and redelivered, dead_lettered).",
		}, []string{"result"}),
		events: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "atoll_telemetry_sink_events_total",
			Help: "Telemetry events by result (inserted, duplicate of a stored one, expired before storing).",
		}, []string{"result"}),
		lag: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "atoll_telemetry_sink_lag_messages",
			Help: "Telemetry batches on the stream not yet delivered to the sink, as of its last fetch.",
		}),
		flags: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "atoll_telemetry_anticheat_flags_total",
			Help: "Players flagged by anti-cheat rule.",
		}, []string{"rule"}),
		suspensions: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "atoll_telemetry_anticheat_suspensions_total",
			Help: "Players suspended by the anti-cheat rules.",
		}),
		ruleSkipped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "atoll_telemetry_anticheat_skipped_total",
			Help: "Rule events whose player id is not a core player id.",
		}),
		expired: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "atoll_telemetry_sink_expired_total",
			Help: "Partitions dropped (PostgreSQL) or rows deleted (CockroachDB) by retention.",
		}),
		copyConflicts: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "atoll_telemetry_sink_copy_conflicts_total",
			Help: "Bulk writes that met already stored events (redeliveries) and deduplicated through staging.",
		}),
	}
	if reg != nil {
		reg.MustRegister(m.batches, m.events, m.lag, m.flags, m.suspensions, m.ruleSkipped, m.expired, m.copyConflicts)
	}
	return m
}
