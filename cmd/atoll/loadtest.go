package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"time"

	"github.com/atollgg/atoll/loadtest"
)

// errSLOBreached makes `atoll loadtest` exit non-zero for pipelines.
var errSLOBreached = errors.New("service-level objectives breached")

func runLoadtest(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	f := newFlags("loadtest", stderr)
	target := f.String("target", "http://127.0.0.1:8080", "the global core's base URL (only ever a deployment you run)")
	f.StringVar(target, "target-url", *target, "same as --target")
	cell := f.String("cell", "", "the cell's base URL (matchmaking, journey, idle and telemetry scenarios)")
	scenario := f.String("scenario", string(loadtest.Auth),
		"auth, matchmaking, journey, idle, telemetry, purchase; device-login and device-register measure /auth/device alone on lean keep-alive connections")
	players := f.Int("players", 32, "virtual players")
	f.IntVar(players, "concurrency", *players, "same as --players")
	ramp := f.Duration("ramp", 0, "spread the players' start over this long (0: all at once)")
	dur := f.Duration("duration", 10*time.Second, "the whole run, ramp included") // loadtest.Config's default
	warm := f.Duration("warmup", 0, "unmeasured warm-up (device-login and device-register)")
	mode := f.String("mode", "duel", "game mode of the match scenarios")
	batch := f.Int("batch", 100, "telemetry events per batch") // loadtest.Config's default
	var slos []loadtest.SLO
	f.Func("slo", "objective to meet, repeatable or comma-separated: join.p99=250ms, errors=0, errors=1%, journey.rate=5/s", func(v string) error {
		for _, s := range strings.Split(v, ",") {
			slo, err := loadtest.ParseSLO(s)
			if err != nil {
				return err
			}
			slos = append(slos, slo)
		}
		return nil
	})
	jsonOut := f.String("report-json", "", "write the JSON report to this file")
	htmlOut := f.String("report-html", "", "write the HTML report with charts to this file")
	sources := f.String("source-addrs", "", "local addresses to spread connections over, comma-separated, or a range such as 127.0.0.2-127.0.0.9")
	quiet := f.Bool("quiet", false, "no live progress")
	if err := f.parse(args); err != nil {
		return err
	}
	if sc := loadtest.Scenario(*scenario); sc == loadtest.DeviceLogin || sc == loadtest.DeviceRegister {
		rep, err := loadtest.Run(ctx, loadtest.Config{URL: *target, Scenario: sc, Concurrency: *players, Duration: *dur, Warmup: *warm})
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout, rep)
		if rep.Errors > 0 {
			return fmt.Errorf("%d requests failed, e.g. %s", rep.Errors, rep.ErrorSample)
		}
		return nil
	}
	addrs, err := parseSourceAddrs(*sources)
	if err != nil {
		return err
	}
	opts := loadtest.Options{
		Target: strings.TrimRight(*target, "/"), CellURL: strings.TrimRight(*cell, "/"), Scenario: loadtest.Scenario(*scenario),
		Players: *players, Ramp: *ramp, Duration: *dur, Mode: *mode, Batch: *batch, SLOs: slos, SourceAddrs: addrs,
	}
	if !*quiet {
		opts.Progress = stderr
	}
	res, err := loadtest.Execute(ctx, opts)
	if err != nil {
		return err
	}
	fmt.Fprint(stdout, res)
	for path, write := range map[string]func(io.Writer) error{*jsonOut: res.WriteJSON, *htmlOut: res.WriteHTML} {
		if path == "" {
			continue
		}
		if err := writeFile(path, write); err != nil {
			return err
		}
	}
	if !res.Met() {
		return errSLOBreached
	}
	return nil
}

func writeFile(path string, write func(io.Writer) error) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	if err := write(f); err != nil {
		f.Close()
		return fmt.Errorf("report %s: %w", path, err)
	}
	return f.Close()
}

// maxSourceAddrs bounds a source-address range: 256 loopback addresses
// already give 7 million ephemeral ports.
const maxSourceAddrs = 256

// parseSourceAddrs reads "a,b,c" or "first-last" (IPv4, last octet).
func parseSourceAddrs(s string) ([]string, error) {
	if s == "" {
		return nil, nil
	}
	if lo, hi, ok := strings.Cut(s, "-"); ok && !strings.Contains(s, ",") {
		a, b := net.ParseIP(lo).To4(), net.ParseIP(hi).To4()
		if a == nil || b == nil || a[0] != b[0] || a[1] != b[1] || a[2] != b[2] || a[3] > b[3] || int(b[3]-a[3]) >= maxSourceAddrs {
			return nil, fmt.Errorf("source addresses %q: want a range such as 127.0.0.2-127.0.0.9 within one /24", s)
		}
		var out []string
		for i := int(a[3]); i <= int(b[3]); i++ {
			out = append(out, net.IPv4(a[0], a[1], a[2], byte(i)).String())
		}
		return out, nil
	}
	out := strings.Split(s, ",")
	for _, a := range out {
		if net.ParseIP(a) == nil {
			return nil, fmt.Errorf("source address %q is not an IP address", a)
		}
	}
	return out, nil
}
