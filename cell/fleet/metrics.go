package fleet

import (
	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the fleet's Prometheus metrics.
type metrics struct {
	allocations   *prometheus.CounterVec
	allocLatency  prometheus.Histogram
	failures      *prometheus.CounterVec
	eventsDropped prometheus.Counter
	// eventSinkFailures counts failed attempts to store a session event.
	eventSinkFailures prometheus.Counter
	telemetry         *prometheus.CounterVec
	serversDesc       *prometheus.Desc
	playersDesc       *prometheus.Desc
	fleet             *Fleet
}

func newMetrics(f *Fleet, reg prometheus.Registerer) *metrics {
	m := &metrics{
		allocations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "atoll_fleet_allocations_total",
			Help: "Allocation attempts by result (ok, no_capacity, invalid, error).",
		}, []string{"result"}),
		allocLatency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "atoll_fleet_allocation_duration_seconds",
			Help: "Latency of successful allocations from the warm pool.",
			// The target is p99 under 5 ms; buckets resolve around it.
			Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .1},
		}),
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "atoll_fleet_server_failures_total",
			Help: "Game servers lost by reason (crash, unhealthy, start_timeout, start_failed).",
		}, []string{"reason"}),
		eventsDropped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "atoll_fleet_events_dropped_total",
			Help: "Player events dropped because the event consumer fell behind.",
		}),
		eventSinkFailures: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "atoll_fleet_event_store_failures_total",
			Help: "Failed attempts to store a session event on the cell's stream (each is retried).",
		}),
		telemetry: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "atoll_fleet_telemetry_events_total",
			Help: "Game servers' telemetry events by result (stored, dropped with no sink, failed to store).",
		}, []string{"result"}),
		serversDesc: prometheus.NewDesc("atoll_fleet_servers", "Game servers by state.", []string{"state"}, nil),
		playersDesc: prometheus.NewDesc("atoll_fleet_players_connected",
			"Players connected to the cell's game servers now (as the servers report them).", nil, nil),
		fleet: f,
	}
	// Every known label value exists from the start, so dashboards and
	// alerts see a 0 rather than no series before the first failure.
	for _, r := range []string{"ok", "no_capacity", "invalid", "error"} {
		m.allocations.WithLabelValues(r)
	}
	for _, r := range []string{"start_failed", "crash", "start_timeout", "unhealthy"} {
		m.failures.WithLabelValues(r)
	}
	if reg != nil {
		reg.MustRegister(m.allocations, m.allocLatency, m.failures, m.eventsDropped, m.eventSinkFailures, m.telemetry, m)
	}
	return m
}

// Describe implements prometheus.Collector for the per-state gauge.
func (m *metrics) Describe(ch chan<- *prometheus.Desc) { ch <- m.serversDesc; ch <- m.playersDesc }

// Collect counts servers by state at scrape time, so the hot paths never
// update a gauge.
func (m *metrics) Collect(ch chan<- prometheus.Metric) {
	counts := map[State]int{StateStarting: 0, StateReady: 0, StateAllocated: 0, StateShutdown: 0, StateUnhealthy: 0}
	players := 0
	m.fleet.mu.RLock()
	for _, s := range m.fleet.servers {
		counts[s.state]++
		if s.state == StateAllocated {
			players += len(s.connected)
		}
	}
	m.fleet.mu.RUnlock()
	ch <- prometheus.MustNewConstMetric(m.playersDesc, prometheus.GaugeValue, float64(players))
	for st, n := range counts {
		ch <- prometheus.MustNewConstMetric(m.serversDesc, prometheus.GaugeValue, float64(n), string(st))
	}
}
