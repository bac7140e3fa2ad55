package beacon

import (
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Stats are a beacon's counters since it started.
type Stats struct {
	PacketsIn   uint64 // datagrams read
	BytesIn     uint64 // bytes of those datagrams
	Replies     uint64 // replies sent
	BytesOut    uint64 // bytes of those replies
	Malformed   uint64 // dropped: not a valid request
	RateLimited uint64 // dropped: the source's limit or the table was full
	SendErrors  uint64 // replies the kernel refused
	// WorkerCPU is the CPU time the workers spent, known once Run has
	// returned (Linux; zero elsewhere): replies per CPU-second is the
	// beacon's cost whatever else the machine runs.
	WorkerCPU time.Duration
}

// counters are a beacon's atomic counters; workers add per batch, not per
// packet, so the hot path touches them rarely.
type counters struct {
	packetsIn, bytesIn, replies, bytesOut, malformed, limited, sendErrors atomic.Uint64
	cpu                                                                   atomic.Int64 // nanoseconds
}

func (c *counters) snapshot() Stats {
	return Stats{
		PacketsIn: c.packetsIn.Load(), BytesIn: c.bytesIn.Load(), Replies: c.replies.Load(), BytesOut: c.bytesOut.Load(),
		Malformed: c.malformed.Load(), RateLimited: c.limited.Load(), SendErrors: c.sendErrors.Load(),
		WorkerCPU: time.Duration(c.cpu.Load()),
	}
}

// register exposes the counters as Prometheus counters read at scrape time.
func (c *counters) register(reg prometheus.Registerer, relayID string) error {
	labels := prometheus.Labels{"relay_id": relayID}
	counter := func(name, help string, v *atomic.Uint64, extra prometheus.Labels) prometheus.Collector {
		l := prometheus.Labels{}
		for k, x := range labels {
			l[k] = x
		}
		for k, x := range extra {
			l[k] = x
		}
		return prometheus.NewCounterFunc(prometheus.CounterOpts{
			Namespace: "atoll", Subsystem: "relay_beacon", Name: name, Help: help, ConstLabels: l,
		}, func() float64 { return float64(v.Load()) })
	}
	for _, col := range []prometheus.Collector{
		counter("packets_received_total", "Datagrams the beacon read.", &c.packetsIn, nil),
		counter("received_bytes_total", "Bytes of the datagrams the beacon read.", &c.bytesIn, nil),
		counter("replies_total", "Replies the beacon sent.", &c.replies, nil),
		counter("sent_bytes_total", "Bytes of the replies the beacon sent.", &c.bytesOut, nil),
		counter("dropped_total", "Datagrams dropped, by reason.", &c.malformed, prometheus.Labels{"reason": "malformed"}),
		counter("dropped_total", "Datagrams dropped, by reason.", &c.limited, prometheus.Labels{"reason": "rate_limited"}),
		counter("dropped_total", "Datagrams dropped, by reason.", &c.sendErrors, prometheus.Labels{"reason": "send_error"}),
	} {
		if err := reg.Register(col); err != nil {
			return err
		}
	}
	return nil
}
