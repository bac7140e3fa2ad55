// Package loadtest drives an Atoll deployment with bounded, self-stopping
// load and reports throughput and latency percentiles, for SREs.
package loadtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// Safety bounds: a load test always stops by itself.
const (
	// MaxDuration caps one run.
	MaxDuration = 30 * time.Minute
	// MaxConcurrency caps simultaneous virtual players.
	MaxConcurrency = 4096
	// requestTimeout fails a request that takes longer; at this point it is
	// an outage, not a latency sample.
	requestTimeout = 10 * time.Second
	// maxLatency is the histogram's upper bound.
	maxLatency = requestTimeout
)

// Scenario is one kind of load.
type Scenario string

// Scenarios.
const (
	// DeviceLogin logs existing device players in again and again (Nakama's
	// "device login" figure).
	DeviceLogin Scenario = "device-login"
	// DeviceRegister creates a new device player per request (Nakama's
	// "device registration" figure).
	DeviceRegister Scenario = "device-register"
)

// Config is one run's whole configuration.
type Config struct {
	// URL is the global core's base URL, e.g. http://127.0.0.1:8080.
	URL      string
	Scenario Scenario
	// Concurrency is the number of virtual players; zero means 32.
	Concurrency int
	// Duration of the measured phase; zero means 10s.
	Duration time.Duration
	// Warmup runs before measuring; zero means none.
	Warmup time.Duration
	// Devices is how many device players DeviceLogin cycles through; zero means 4 × Concurrency.
	Devices int
}

// Report is a run's result.
type Report struct {
	Scenario    Scenario
	Concurrency int
	Duration    time.Duration
	Requests    int64
	Errors      int64
	// ErrorSample is one error message, for diagnosis.
	ErrorSample              string
	Throughput               float64
	P50, P90, P99, P999, Max time.Duration
}

func (r Report) String() string {
	return fmt.Sprintf("%s: %d requests in %s with %d workers: %.0f req/s, errors %d; latency p50 %s p90 %s p99 %s p99.9 %s max %s",
		r.Scenario, r.Requests, r.Duration.Round(time.Millisecond), r.Concurrency, r.Throughput, r.Errors,
		r.P50, r.P90, r.P99, r.P999, r.Max)
}

// Run executes the load test.
func Run(ctx context.Context, cfg Config) (Report, error) {
	target, err := url.ParseRequestURI(cfg.URL)
	if err != nil {
		return Report{}, fmt.Errorf("loadtest: target URL: %w", err)
	}
	if (target.Scheme != "http" && target.Scheme != "https") || target.Host == "" {
		return Report{}, fmt.Errorf("loadtest: target URL must be http:// or https:// with a host, got %q", cfg.URL)
	}
	if cfg.Concurrency == 0 {
		cfg.Concurrency = 32
	}
	if cfg.Duration == 0 {
		cfg.Duration = 10 * time.Second
	}
	if cfg.Devices == 0 {
		cfg.Devices = 4 * cfg.Concurrency
	}
	switch {
	case cfg.Concurrency < 1 || cfg.Concurrency > MaxConcurrency:
		return Report{}, fmt.Errorf("loadtest: concurrency must be 1-%d", MaxConcurrency)
	case cfg.Duration+cfg.Warmup > MaxDuration || cfg.Duration < 0 || cfg.Warmup < 0:
		return Report{}, fmt.Errorf("loadtest: duration plus warm-up must be under %s", MaxDuration)
	case cfg.Scenario != DeviceLogin && cfg.Scenario != DeviceRegister:
		return Report{}, fmt.Errorf("loadtest: unknown scenario %q (want %s or %s)", cfg.Scenario, DeviceLogin, DeviceRegister)
	}
	d := &driver{cfg: cfg, target: target, path: strings.TrimSuffix(target.Path, "/") + "/auth/device"}

	var devices []string
	if cfg.Scenario == DeviceLogin {
		if devices, err = d.seed(ctx, cfg.Devices); err != nil {
			return Report{}, err
		}
	}
	if cfg.Warmup > 0 {
		d.phase(ctx, cfg.Warmup, devices, nil)
	}
	hist := hdrhistogram.New(1, maxLatency.Microseconds(), 3)
	start := time.Now()
	n, errs, sample := d.phase(ctx, cfg.Duration, devices, hist)
	elapsed := time.Since(start)
	if ctx.Err() != nil {
		return Report{}, ctx.Err()
	}
	us := func(q float64) time.Duration { return time.Duration(hist.ValueAtQuantile(q)) * time.Microsecond }
	return Report{
		Scenario: cfg.Scenario, Concurrency: cfg.Concurrency, Duration: elapsed, Requests: n, Errors: errs, ErrorSample: sample,
		Throughput: float64(n) / elapsed.Seconds(),
		P50:        us(50), P90: us(90), P99: us(99), P999: us(99.9), Max: time.Duration(hist.Max()) * time.Microsecond,
	}, nil
}

type driver struct {
	cfg    Config
	target *url.URL
	path   string // of the device endpoint
}

// conn returns a new connection for one goroutine; close it when done.
func (d *driver) conn() *h1Conn { return newH1Conn(d.target, d.path) }

func newDeviceID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return "lt-" + hex.EncodeToString(b[:])
}

// seed registers the devices the login scenario cycles through.
func (d *driver) seed(ctx context.Context, n int) ([]string, error) {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = newDeviceID()
	}
	var wg sync.WaitGroup
	var next atomic.Int64
	errCh := make(chan error, 1)
	for range min(d.cfg.Concurrency, n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := d.conn()
			defer c.close()
			for {
				i := int(next.Add(1)) - 1
				if i >= n || ctx.Err() != nil {
					return
				}
				if err := d.do(ctx, c, ids[i]); err != nil {
					select {
					case errCh <- fmt.Errorf("loadtest: seed device players: %w", err):
					default:
					}
					return
				}
			}
		}()
	}
	wg.Wait()
	select {
	case err := <-errCh:
		return nil, err
	default:
		return ids, ctx.Err()
	}
}

// phase runs the scenario for dur; hist, when non-nil, records latencies.
func (d *driver) phase(ctx context.Context, dur time.Duration, devices []string, hist *hdrhistogram.Histogram) (int64, int64, string) {
	ctx, cancel := context.WithTimeout(ctx, dur)
	defer cancel()
	var mu sync.Mutex // guards hist and sample
	var sample string
	var total, errs atomic.Int64
	var wg sync.WaitGroup
	for w := range d.cfg.Concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			local := hdrhistogram.New(1, maxLatency.Microseconds(), 3)
			c := d.conn()
			defer c.close()
			i := w
			for ctx.Err() == nil {
				id := newDeviceID()
				if devices != nil {
					id = devices[i%len(devices)]
					i += d.cfg.Concurrency
				}
				t0 := time.Now()
				err := d.do(ctx, c, id)
				if ctx.Err() != nil {
					break // a request cut by the end of the phase is not a sample
				}
				total.Add(1)
				if err != nil {
					errs.Add(1)
					mu.Lock()
					if sample == "" {
						sample = err.Error()
					}
					mu.Unlock()
					continue
				}
				_ = local.RecordValue(time.Since(t0).Microseconds())
			}
			if hist != nil {
				mu.Lock()
				hist.Merge(local)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return total.Load(), errs.Load(), sample
}

var errStatus = errors.New("unexpected status")

func (d *driver) do(ctx context.Context, c *h1Conn, deviceID string) error {
	status, err := c.post(ctx, []byte(`{"device_id":"`+deviceID+`"}`))
	if err != nil {
		return err
	}
	if status != http.StatusOK && status != http.StatusCreated {
		return fmt.Errorf("%w %d", errStatus, status)
	}
	return nil
}
