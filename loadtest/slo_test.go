package loadtest

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestParseSLO(t *testing.T) {
	cases := []struct {
		in      string
		want    SLO
		wantErr string
	}{
		{in: "join.p99=250ms", want: SLO{Step: "join", Metric: "p99", Latency: 250 * time.Millisecond}},
		{in: "match.max=2s", want: SLO{Step: "match", Metric: "max", Latency: 2 * time.Second}},
		{in: "errors=0", want: SLO{Metric: "errors"}},
		{in: "errors=0.5%", want: SLO{Metric: "errors", Count: 0.5, Percent: true}},
		{in: "login.errors=3", want: SLO{Step: "login", Metric: "errors", Count: 3}},
		{in: "journey.rate=10/s", want: SLO{Step: "journey", Metric: "rate", Count: 10}},
		{in: "p99=1ms", wantErr: "names its step"},
		{in: "join.p99=fast", wantErr: "positive duration"},
		{in: "join.p42=1ms", wantErr: "unknown metric"},
		{in: "errors=-1", wantErr: "count or a percentage"},
		{in: "rate=5/s", wantErr: "names its step"},
		{in: "nothing", wantErr: "no key=value"},
	}
	for _, tc := range cases {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseSLO(tc.in)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got.raw = ""
			if got != tc.want {
				t.Fatalf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

// sampleResult is a run with two steps, one of them failing sometimes.
func sampleResult() *Result {
	rec := NewRecorder(10 * time.Second)
	t0 := time.Now().Add(-40 * time.Millisecond)
	for range 99 {
		rec.Observe("join", t0, nil)
	}
	rec.Observe("join", t0, errors.New("boom"))
	rec.Observe("match", time.Now().Add(-2*time.Second), nil)
	rec.Gauge("connected_players", 10)
	r := &run{opts: Options{Scenario: Journey, Target: "http://core", Players: 10}, rec: rec}
	return r.report(10 * time.Second)
}

func TestSLOVerdicts(t *testing.T) {
	res := sampleResult()
	cases := []struct {
		slo  string
		met  bool
		want string
	}{
		{"join.p99=1s", true, ""},
		{"join.p99=1ms", false, ""},
		{"match.max=1s", false, ""},
		{"errors=0", false, "1"},
		{"errors=1", true, "1"},
		{"errors=1%", true, "0.990%"},
		{"join.errors=0", false, "1"},
		{"match.errors=0", true, "0"},
		{"join.rate=5/s", true, "9.90/s"},
		{"join.rate=50/s", false, ""},
		{"purchase.p99=1s", false, "step never ran"},
	}
	for _, tc := range cases {
		slo, err := ParseSLO(tc.slo)
		if err != nil {
			t.Fatal(err)
		}
		v := slo.check(res)
		if v.Met != tc.met || (tc.want != "" && !strings.HasPrefix(v.Actual, tc.want)) {
			t.Errorf("%s: %+v, want met=%v actual %q", tc.slo, v, tc.met, tc.want)
		}
	}
}

func TestReportsCarryEveryStep(t *testing.T) {
	res := sampleResult()
	slo, _ := ParseSLO("join.p99=1ms")
	res.SLOs = []Verdict{slo.check(res)}
	if res.Met() {
		t.Fatal("a breached SLO reported as met")
	}
	var js, page bytes.Buffer
	if err := res.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"name": "join"`, `"errors": 1`, `"other": 1`, `"p99":`, `"connected_players"`, `"met": false`} {
		if !strings.Contains(js.String(), want) {
			t.Errorf("JSON report lacks %s", want)
		}
	}
	if err := res.WriteHTML(&page); err != nil {
		t.Fatal(err)
	}
	html := page.String()
	for _, want := range []string{"<svg", "<polyline", "Latency over time", "Latency percentiles by step", "connected players", "breached", ">join<", ">match<"} {
		if !strings.Contains(html, want) {
			t.Errorf("HTML report lacks %s", want)
		}
	}
	if !strings.Contains(res.String(), "BREACHED") {
		t.Errorf("text report does not flag the breach:\n%s", res)
	}
}

func TestOptionsRefused(t *testing.T) {
	cases := []Options{
		{Target: "ftp://x", Scenario: Auth},
		{Target: "http://127.0.0.1:1", Scenario: "nope"},
		{Target: "http://127.0.0.1:1", Scenario: Journey},
		{Target: "http://127.0.0.1:1", Scenario: Auth, Players: MaxPlayers + 1},
		{Target: "http://127.0.0.1:1", Scenario: Auth, Duration: time.Second, Ramp: 2 * time.Second},
		{Target: "http://127.0.0.1:1", Scenario: Auth, SourceAddrs: []string{"not-an-ip"}},
	}
	for _, o := range cases {
		if err := o.validate(); err == nil {
			t.Errorf("options %+v accepted", o)
		}
	}
}
