package telemetry

import "github.com/prometheus/client_golang/prometheus"

// metrics are the ingest's Prometheus metrics.
type metrics struct {
	batches *prometheus.CounterVec
	events  *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer, in *Ingest) *metrics {
	m := &metrics{
		batches: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "atoll_cell_telemetry_batches_total",
			Help: "Telemetry batches by sender (client, server) and result (accepted, duplicate, invalid, too_large, rate_limited, busy, failed).",
		}, []string{"sender", "result"}),
		events: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "atoll_cell_telemetry_events_total",
			Help: "Telemetry events of decoded batches by sender and result (accepted, duplicate, busy, failed, rate_limited).",
		}, []string{"sender", "result"}),
	}
	if reg != nil {
		inflight := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "atoll_cell_telemetry_publishes_in_flight",
			Help: "Telemetry batches being published to the cell's stream.",
		}, func() float64 { return float64(len(in.inflight)) })
		reg.MustRegister(m.batches, m.events, inflight)
	}
	return m
}

func (m *metrics) batch(sender, result string, events int) {
	m.batches.WithLabelValues(sender, result).Inc()
	if events > 0 {
		m.events.WithLabelValues(sender, result).Add(float64(events))
	}
}
