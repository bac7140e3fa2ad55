package obs

import (
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
)

// PoolCollector exports pgxpool statistics.
type PoolCollector struct {
	pool                                                  *pgxpool.Pool
	acquired, idle, total, max, acquireCount, acquireWait *prometheus.Desc
	emptyAcquire                                          *prometheus.Desc
}

// NewPoolCollector describes pool's stats under atoll_db_pool_*.
func NewPoolCollector(pool *pgxpool.Pool, service string) *PoolCollector {
	l := prometheus.Labels{"service": service}
	d := func(name, help string) *prometheus.Desc {
		return prometheus.NewDesc("atoll_db_pool_"+name, help, nil, l)
	}
	return &PoolCollector{
		pool:         pool,
		acquired:     d("acquired_conns", "Connections currently in use."),
		idle:         d("idle_conns", "Idle connections."),
		total:        d("total_conns", "Open connections."),
		max:          d("max_conns", "Configured maximum connections."),
		acquireCount: d("acquires_total", "Successful connection acquires."),
		acquireWait:  d("acquire_wait_seconds_total", "Time spent waiting for a connection."),
		emptyAcquire: d("empty_acquires_total", "Acquires that had to wait because the pool was empty."),
	}
}

// Describe implements prometheus.Collector.
func (c *PoolCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.acquired, c.idle, c.total, c.max, c.acquireCount, c.acquireWait, c.emptyAcquire} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *PoolCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.pool.Stat()
	ch <- prometheus.MustNewConstMetric(c.acquired, prometheus.GaugeValue, float64(s.AcquiredConns()))
	ch <- prometheus.MustNewConstMetric(c.idle, prometheus.GaugeValue, float64(s.IdleConns()))
	ch <- prometheus.MustNewConstMetric(c.total, prometheus.GaugeValue, float64(s.TotalConns()))
	ch <- prometheus.MustNewConstMetric(c.max, prometheus.GaugeValue, float64(s.MaxConns()))
	ch <- prometheus.MustNewConstMetric(c.acquireCount, prometheus.CounterValue, float64(s.AcquireCount()))
	ch <- prometheus.MustNewConstMetric(c.acquireWait, prometheus.CounterValue, s.AcquireDuration().Seconds())
	ch <- prometheus.MustNewConstMetric(c.emptyAcquire, prometheus.CounterValue, float64(s.EmptyAcquireCount()))
}
