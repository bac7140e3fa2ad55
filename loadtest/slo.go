package loadtest

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// SLO is one objective a run must meet, from --slo flags:
//
//	join.p99=250ms     the join step's p99 latency at most 250 ms (p50, p90, p99, p999, max)
//	errors=0           at most 0 failed steps in the whole run
//	errors=0.5%        failed steps at most 0.5% of all steps
//	match.errors=2     at most 2 failed match steps
//	journey.rate=10/s  at least 10 completed journeys per second (a floor, not a ceiling)
type SLO struct {
	// Step is the step the objective is about; empty means the whole run
	// (errors only).
	Step string
	// Metric is p50, p90, p99, p999, max, errors or rate.
	Metric string
	// Latency is the ceiling of a latency metric.
	Latency time.Duration
	// Count is the ceiling of errors (Percent false) or their share in
	// percent (Percent true), or the floor of rate per second.
	Count   float64
	Percent bool
	raw     string
}

func (s SLO) String() string { return s.raw }

// ParseSLO parses one objective; the message of an error says the form.
func ParseSLO(raw string) (SLO, error) {
	bad := func(why string) (SLO, error) {
		return SLO{}, fmt.Errorf("slo %q: %s (want step.p99=250ms, errors=0, errors=1%%, step.errors=2 or step.rate=10/s)", raw, why)
	}
	key, val, ok := strings.Cut(strings.TrimSpace(raw), "=")
	if !ok || key == "" || val == "" {
		return bad("no key=value")
	}
	s := SLO{raw: raw}
	if step, metric, ok := strings.Cut(key, "."); ok {
		s.Step, s.Metric = step, metric
	} else {
		s.Metric = key
	}
	switch s.Metric {
	case "p50", "p90", "p99", "p999", "max":
		if s.Step == "" {
			return bad("a latency objective names its step")
		}
		d, err := time.ParseDuration(val)
		if err != nil || d <= 0 {
			return bad("latency must be a positive duration such as 250ms")
		}
		s.Latency = d
	case "errors":
		num := strings.TrimSuffix(val, "%")
		s.Percent = num != val
		f, err := strconv.ParseFloat(num, 64)
		if err != nil || f < 0 {
			return bad("errors must be a count or a percentage")
		}
		s.Count = f
	case "rate":
		if s.Step == "" {
			return bad("a rate objective names its step")
		}
		f, err := strconv.ParseFloat(strings.TrimSuffix(val, "/s"), 64)
		if err != nil || f <= 0 {
			return bad("rate must be a positive number per second such as 10/s")
		}
		s.Count = f
	default:
		return bad("unknown metric " + s.Metric)
	}
	return s, nil
}

// Verdict is one SLO checked against a run.
type Verdict struct {
	SLO    string `json:"slo"`
	Actual string `json:"actual"`
	Met    bool   `json:"met"`
}

func (s SLO) check(res *Result) Verdict {
	v := Verdict{SLO: s.raw}
	var st *Step
	for i := range res.Steps {
		if res.Steps[i].Name == s.Step {
			st = &res.Steps[i]
		}
	}
	if s.Step != "" && st == nil {
		v.Actual = "step never ran"
		return v
	}
	switch s.Metric {
	case "errors":
		var errs, total int64
		for _, x := range res.Steps {
			if s.Step == "" || x.Name == s.Step {
				errs += x.Errors
				total += x.Errors + x.Count
			}
		}
		if s.Percent {
			pct := 0.0
			if total > 0 {
				pct = 100 * float64(errs) / float64(total)
			}
			v.Actual, v.Met = fmt.Sprintf("%.3f%% (%d of %d)", pct, errs, total), pct <= s.Count
		} else {
			v.Actual, v.Met = strconv.FormatInt(errs, 10), float64(errs) <= s.Count
		}
	case "rate":
		v.Actual, v.Met = fmt.Sprintf("%.2f/s", st.Throughput), st.Throughput >= s.Count
	default:
		ms := map[string]float64{"p50": st.Latency.P50, "p90": st.Latency.P90, "p99": st.Latency.P99, "p999": st.Latency.P999, "max": st.Latency.Max}[s.Metric]
		got := time.Duration(ms * float64(time.Millisecond))
		v.Actual = got.Round(10 * time.Microsecond).String()
		v.Met = st.Count > 0 && got <= s.Latency
		if st.Count == 0 {
			v.Actual = "no successful samples"
		}
	}
	return v
}
