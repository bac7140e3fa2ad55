package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/atollgg/atoll/internal/dbtest"
	"github.com/atollgg/atoll/loadtest"
	"github.com/atollgg/atoll/stacktest"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

// TestLoadtestAgainstACell drives `atoll loadtest` against a real cell
// (its fleet runs real game-server processes) and checks the reports and
// the exit status the SLOs give.
func TestLoadtestAgainstACell(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a whole stack")
	}
	st := stacktest.StartStack(t, stacktest.StackOptions{GameEnv: []string{"ATOLL_GAME_DURATION=2s"}})
	cases := []struct {
		name     string
		args     []string
		wantCode int
		check    func(t *testing.T, r *loadtest.Result)
	}{
		{"journey", []string{"--scenario", "journey", "--players", "2", "--duration", "10s", "--mode", stacktest.Mode,
			"--slo", "match.p99=60s,errors=0"}, 0, func(t *testing.T, r *loadtest.Result) {
			if r.Summary["matches_completed"] < 2 {
				t.Errorf("matches completed = %v, want at least one match for both players", r.Summary["matches_completed"])
			}
			for _, s := range []string{"login", "join", "match", "play", "results", "journey"} {
				if step(r, s) == nil {
					t.Errorf("no %s step", s)
				}
			}
		}},
		{"idle", []string{"--scenario", "idle", "--players", "6", "--duration", "3s", "--slo", "connect.errors=0"}, 0,
			func(t *testing.T, r *loadtest.Result) {
				if r.Summary["peak_connected"] != 6 {
					t.Errorf("peak connected = %v, want 6", r.Summary["peak_connected"])
				}
				if len(r.Gauges["cell_rss_bytes"]) == 0 {
					t.Error("the cell's memory was not sampled")
				}
			}},
		{"purchase", []string{"--scenario", "purchase", "--players", "2", "--duration", "2s", "--slo", "errors=0"}, 0,
			func(t *testing.T, r *loadtest.Result) {
				if s := step(r, "purchase"); s == nil || s.Count == 0 {
					t.Errorf("no purchases: %+v", s)
				}
			}},
		{"breached", []string{"--scenario", "auth", "--players", "2", "--duration", "1s", "--slo", "login.p99=1ns"}, 1,
			func(t *testing.T, r *loadtest.Result) {
				if r.Met() || len(r.SLOs) != 1 {
					t.Errorf("SLO verdicts %+v, want one breached", r.SLOs)
				}
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			jsonPath, htmlPath := filepath.Join(dir, "report.json"), filepath.Join(dir, "report.html")
			args := append([]string{"loadtest", "--target", st.GlobalURL, "--cell", st.CellURL, "--quiet",
				"--report-json", jsonPath, "--report-html", htmlPath}, tc.args...)
			var stdout, stderr bytes.Buffer
			if code := run(context.Background(), args, &stdout, &stderr); code != tc.wantCode {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tc.wantCode, stdout.String(), stderr.String())
			}
			data, err := os.ReadFile(jsonPath)
			if err != nil {
				t.Fatal(err)
			}
			var r loadtest.Result
			if err := json.Unmarshal(data, &r); err != nil {
				t.Fatal(err)
			}
			if len(r.Steps) == 0 || step(&r, "login") == nil || step(&r, "login").Count == 0 {
				t.Fatalf("report without logins: %s", data)
			}
			if tc.wantCode == 0 {
				for _, s := range r.Steps {
					if s.Errors > 0 {
						t.Errorf("step %s: %d errors %v", s.Name, s.Errors, s.ErrorKinds)
					}
				}
			}
			tc.check(t, &r)
			page, err := os.ReadFile(htmlPath)
			if err != nil || !bytes.Contains(page, []byte("<svg")) {
				t.Fatalf("HTML report: %v", err)
			}
			if !strings.Contains(stdout.String(), string(r.Scenario)) {
				t.Errorf("no text summary on stdout: %s", stdout.String())
			}
		})
	}
}

func step(r *loadtest.Result, name string) *loadtest.Step {
	for i := range r.Steps {
		if r.Steps[i].Name == name {
			return &r.Steps[i]
		}
	}
	return nil
}
