package federation

import "github.com/prometheus/client_golang/prometheus"

// metrics are the framework's Prometheus series, labelled by handler.
type metrics struct {
	applied, duplicates, deadLettered, retries *prometheus.CounterVec
	lag                                        *prometheus.GaugeVec
	outboxPublished, outboxErrors              prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		applied: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "atoll_federation_applied_total",
			Help: "Cell events applied and committed, by handler."}, []string{"handler"}),
		duplicates: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "atoll_federation_duplicates_total",
			Help: "Redelivered cell events skipped because their applied-marker existed, by handler."}, []string{"handler"}),
		deadLettered: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "atoll_federation_dead_lettered_total",
			Help: "Poison cell events moved to the dead-letter stream, by handler."}, []string{"handler"}),
		retries: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "atoll_federation_retries_total",
			Help: "Failed attempts at applying a cell event that will be retried, by handler."}, []string{"handler"}),
		lag: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "atoll_federation_consumer_lag",
			Help: "Cell events waiting for a handler, as of its last delivery."}, []string{"handler"}),
		outboxPublished: prometheus.NewCounter(prometheus.CounterOpts{Name: "atoll_federation_outbox_published_total",
			Help: "Outbox events published to GLOBAL_EVENTS and removed from the outbox."}),
		outboxErrors: prometheus.NewCounter(prometheus.CounterOpts{Name: "atoll_federation_outbox_errors_total",
			Help: "Failed outbox publishing rounds (retried with backoff)."}),
	}
	if reg != nil {
		reg.MustRegister(m.applied, m.duplicates, m.deadLettered, m.retries, m.lag, m.outboxPublished, m.outboxErrors)
	}
	return m
}
