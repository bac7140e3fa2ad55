package loadtest

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"
)

// Result is the report of an Execute run: JSON for pipelines (WriteJSON),
// HTML with charts for people (WriteHTML).
type Result struct {
	Scenario  Scenario  `json:"scenario"`
	Target    string    `json:"target"`
	CellURL   string    `json:"cell_url,omitempty"`
	Players   int       `json:"players"`
	Ramp      string    `json:"ramp"`
	StartedAt time.Time `json:"started_at"`
	// Seconds is the run's measured length.
	Seconds float64 `json:"seconds"`
	Steps   []Step  `json:"steps"`
	// Gauges are sampled once a second: connected_players, cell_rss_bytes.
	Gauges map[string][]GaugePoint `json:"gauges,omitempty"`
	// Summary holds the scenario's headline figures (matches_per_minute,
	// events_per_second, peak_connected, memory_per_player_bytes).
	Summary map[string]float64 `json:"summary"`
	SLOs    []Verdict          `json:"slos,omitempty"`
}

// Step is one measured step (login, join, match, play, ...).
type Step struct {
	Name   string `json:"name"`
	Count  int64  `json:"count"`
	Errors int64  `json:"errors"`
	// ErrorKinds counts errors by kind: http_<status>_<code>, timeout, net_dial, ...
	ErrorKinds map[string]int64 `json:"error_kinds,omitempty"`
	Throughput float64          `json:"throughput_per_s"`
	Latency    Percentiles      `json:"latency_ms"`
	Series     []Point          `json:"series"`
}

// Percentiles are latencies in milliseconds.
type Percentiles struct {
	P50  float64 `json:"p50"`
	P90  float64 `json:"p90"`
	P99  float64 `json:"p99"`
	P999 float64 `json:"p999"`
	Max  float64 `json:"max"`
	Mean float64 `json:"mean"`
}

// Point is one second of a step.
type Point struct {
	T       float64     `json:"t"`
	Count   int64       `json:"count"`
	Errors  int64       `json:"errors"`
	Latency Percentiles `json:"latency_ms"`
}

// GaugePoint is one sample of a gauge at T seconds.
type GaugePoint struct {
	T float64 `json:"t"`
	V float64 `json:"v"`
}

// Met reports whether every SLO was met.
func (r *Result) Met() bool {
	for _, v := range r.SLOs {
		if !v.Met {
			return false
		}
	}
	return true
}

func (r *run) report(elapsed time.Duration) *Result {
	steps, gauges := r.rec.snapshot(elapsed)
	res := &Result{
		Scenario: r.opts.Scenario, Target: r.opts.Target, CellURL: r.opts.CellURL, Players: r.opts.Players,
		Ramp: r.opts.Ramp.String(), StartedAt: r.rec.start.UTC(), Seconds: elapsed.Seconds(),
		Steps: steps, Gauges: gauges, Summary: map[string]float64{},
	}
	if n := r.matches.Load(); n > 0 {
		res.Summary["matches_completed"] = float64(n)
		res.Summary["player_matches_per_minute"] = float64(n) / elapsed.Minutes()
	}
	if n := r.events.Load(); n > 0 {
		res.Summary["events_accepted"] = float64(n)
		res.Summary["events_per_second"] = float64(n) / elapsed.Seconds()
	}
	if conn := gauges["connected_players"]; len(conn) > 0 {
		peak, at := 0.0, 0
		for i, p := range conn {
			if p.V > peak {
				peak, at = p.V, i
			}
		}
		res.Summary["peak_connected"] = peak
		if rss := gauges["cell_rss_bytes"]; len(rss) > 1 && peak > 0 {
			// The cell's memory before the first connection against its
			// memory at the peak: what the connected players cost.
			base, top := rss[0].V, rss[min(at, len(rss)-1)].V
			res.Summary["cell_rss_start_bytes"], res.Summary["cell_rss_peak_bytes"] = base, top
			res.Summary["memory_per_player_bytes"] = (top - base) / peak
		}
	}
	for _, s := range r.opts.SLOs {
		res.SLOs = append(res.SLOs, s.check(res))
	}
	return res
}

// WriteJSON writes the report as indented JSON.
func (r *Result) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// String is the report's text summary, one line per step.
func (r *Result) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %d players for %.1fs against %s\n", r.Scenario, r.Players, r.Seconds, r.Target)
	for _, s := range r.Steps {
		fmt.Fprintf(&b, "  %-12s %8d ok %6d err %9.1f/s  p50 %7.1fms p90 %7.1fms p99 %7.1fms p99.9 %7.1fms max %7.1fms\n",
			s.Name, s.Count, s.Errors, s.Throughput, s.Latency.P50, s.Latency.P90, s.Latency.P99, s.Latency.P999, s.Latency.Max)
		for k, n := range s.ErrorKinds {
			fmt.Fprintf(&b, "  %-12s   %d × %s\n", "", n, k)
		}
	}
	for _, k := range sortedKeys(r.Summary) {
		fmt.Fprintf(&b, "  %s: %.2f\n", k, r.Summary[k])
	}
	for _, v := range r.SLOs {
		mark := "met"
		if !v.Met {
			mark = "BREACHED"
		}
		fmt.Fprintf(&b, "  SLO %-20s %-9s (actual %s)\n", v.SLO, mark, v.Actual)
	}
	return b.String()
}
