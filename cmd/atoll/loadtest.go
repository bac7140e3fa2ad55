package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/atollgg/atoll/loadtest"
)

func runLoadtest(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	f := newFlags("loadtest", stderr)
	target := f.String("target-url", "http://127.0.0.1:8080", "global core base URL (only ever a server you run)")
	scenario := f.String("scenario", string(loadtest.DeviceLogin), "device-login or device-register")
	conc := f.Int("concurrency", 32, "virtual players")
	dur := f.Duration("duration", 10*time.Second, "measured phase") // loadtest.Config's default
	warm := f.Duration("warmup", 0, "unmeasured warm-up")
	if err := f.parse(args); err != nil {
		return err
	}
	rep, err := loadtest.Run(ctx, loadtest.Config{URL: *target, Scenario: loadtest.Scenario(*scenario), Concurrency: *conc, Duration: *dur, Warmup: *warm})
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, rep)
	if rep.Errors > 0 {
		return fmt.Errorf("%d requests failed, e.g. %s", rep.Errors, rep.ErrorSample)
	}
	return nil
}
