package loadtest

import (
	"context"
	"errors"
	"net"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
	"github.com/atollgg/atoll/gameserver/client"
	"github.com/atollgg/atoll/internal/httpx"
)

// Resolution of the recorded steps.
const (
	// seriesInterval is the narrowest point of the time series in the
	// reports: fine enough to see a ramp or a stall, coarse enough that
	// every point has samples at a few requests per second.
	seriesInterval = time.Second
	// maxSeriesPoints bounds a step's series, so a long run widens its
	// points instead of growing the report (and memory) without bound.
	maxSeriesPoints = 300
	// maxStep is the histograms' upper bound: a whole match is a step, and
	// anything past an hour is an outage, not a latency.
	maxStep = time.Hour
)

// maxErrorKinds bounds the distinct error kinds kept per step, so a server
// answering with random messages cannot grow the report without bound.
const maxErrorKinds = 64

// Recorder collects every step's latencies, errors and a per-second series.
// It is safe for concurrent use by every virtual player.
type Recorder struct {
	start    time.Time
	interval time.Duration // of one series point

	mu     sync.Mutex // guards following
	steps  map[string]*stepRec
	gauges map[string][]GaugePoint
}

type stepRec struct {
	hist   *hdrhistogram.Histogram
	errors int64
	kinds  map[string]int64
	series []*window
}

type window struct {
	hist   *hdrhistogram.Histogram
	errors int64
}

// NewRecorder starts a recorder whose series begin now and cover a run of
// about runFor (zero: seriesInterval points).
func NewRecorder(runFor time.Duration) *Recorder {
	interval := max(seriesInterval, (runFor / maxSeriesPoints).Round(time.Second))
	return &Recorder{start: time.Now(), interval: interval, steps: map[string]*stepRec{}, gauges: map[string][]GaugePoint{}}
}

// newHist is a step's whole-run histogram: microseconds, 3 significant
// digits.
func newHist() *hdrhistogram.Histogram { return hdrhistogram.New(1, maxStep.Microseconds(), 3) }

// newWindowHist is one series point's histogram: 2 significant digits are
// plenty for a chart and keep a point near 26 KiB.
func newWindowHist() *hdrhistogram.Histogram { return hdrhistogram.New(1, maxStep.Microseconds(), 2) }

// Observe records one attempt of step that started at t0; err nil is a
// success.
func (r *Recorder) Observe(step string, t0 time.Time, err error) {
	now := time.Now()
	d := now.Sub(t0)
	idx := int(now.Sub(r.start) / r.interval)
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.steps[step]
	if s == nil {
		s = &stepRec{hist: newHist(), kinds: map[string]int64{}}
		r.steps[step] = s
	}
	for len(s.series) <= idx {
		s.series = append(s.series, &window{hist: newWindowHist()})
	}
	w := s.series[idx]
	if err != nil {
		s.errors++
		w.errors++
		k := ErrorKind(err)
		if _, ok := s.kinds[k]; ok || len(s.kinds) < maxErrorKinds {
			s.kinds[k]++
		} else {
			s.kinds["other"]++
		}
		return
	}
	us := max(d.Microseconds(), 1)
	us = min(us, maxStep.Microseconds())
	_ = s.hist.RecordValue(us)
	_ = w.hist.RecordValue(us)
}

// Gauge records a sampled value (connected players, server memory) at now.
func (r *Recorder) Gauge(name string, v float64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.gauges[name] = append(r.gauges[name], GaugePoint{T: time.Since(r.start).Seconds(), V: v})
}

// ErrorKind classifies err for the report: the API's stable error code or
// HTTP status, a timeout, a refused or reset connection, or "other".
func ErrorKind(err error) string {
	var he *httpx.Error
	var ce *client.APIError
	var ne net.Error
	switch {
	case errors.As(err, &he):
		return httpKind(he.Status, he.Code)
	case errors.As(err, &ce):
		return httpKind(ce.Status, ce.Code)
	case errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	case errors.Is(err, errStatus):
		return err.Error()
	case errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	}
	var op *net.OpError
	if errors.As(err, &op) {
		return "net_" + op.Op
	}
	var se statusError
	if errors.As(err, &se) {
		return httpKind(int(se), "")
	}
	return "other"
}

func httpKind(status int, code string) string {
	if code != "" {
		return "http_" + strconv.Itoa(status) + "_" + code
	}
	return "http_" + strconv.Itoa(status)
}

// statusError is an unexpected HTTP status.
type statusError int

func (e statusError) Error() string { return "unexpected HTTP status " + strconv.Itoa(int(e)) }

// snapshot turns what was recorded into report steps, sorted by name.
func (r *Recorder) snapshot(elapsed time.Duration) ([]Step, map[string][]GaugePoint) {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]Step, 0, len(r.steps))
	for name, s := range r.steps {
		st := Step{Name: name, Count: s.hist.TotalCount(), Errors: s.errors, ErrorKinds: map[string]int64{}}
		for k, v := range s.kinds {
			st.ErrorKinds[k] = v
		}
		st.Latency = percentiles(s.hist)
		if elapsed > 0 {
			st.Throughput = float64(st.Count) / elapsed.Seconds()
		}
		for i, w := range s.series {
			st.Series = append(st.Series, Point{
				T: float64(i) * r.interval.Seconds(), Count: w.hist.TotalCount(), Errors: w.errors, Latency: percentiles(w.hist),
			})
		}
		out = append(out, st)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	g := make(map[string][]GaugePoint, len(r.gauges))
	for k, v := range r.gauges {
		g[k] = append([]GaugePoint(nil), v...)
	}
	return out, g
}

func percentiles(h *hdrhistogram.Histogram) Percentiles {
	if h.TotalCount() == 0 {
		return Percentiles{}
	}
	ms := func(v int64) float64 { return float64(v) / 1000 }
	return Percentiles{
		P50: ms(h.ValueAtQuantile(50)), P90: ms(h.ValueAtQuantile(90)), P99: ms(h.ValueAtQuantile(99)),
		P999: ms(h.ValueAtQuantile(99.9)), Max: ms(h.Max()), Mean: h.Mean() / 1000,
	}
}
