package main

import (
	"fmt"

	"github.com/atollgg/atoll/cell"
	"github.com/atollgg/atoll/cell/telemetry"
	globaltelemetry "github.com/atollgg/atoll/global/telemetry"
	"github.com/atollgg/atoll/internal/ratelimit"
)

// telemetrySinkFlags adds the global core's telemetry-sink flags to f and
// returns what builds the settings after parsing.
func telemetrySinkFlags(f *envFlags) func() globaltelemetry.Settings {
	url := f.String("telemetry-nats-url", "", "NATS URL of the hub the telemetry sink consumes cells' telemetry from (empty: sink off)")
	domain := f.String("telemetry-domain", "", "JetStream domain of the hub (default global)")
	retention := f.Duration("telemetry-retention", globaltelemetry.DefaultRetention, "how long telemetry events are kept (at least 24h)")
	window := f.Duration("anticheat-window", 0, "anti-cheat rules' counting window (0: the built-in rules, the three settings below ignored)")
	violations := f.Int64("anticheat-max-violations", 0, "violations per player and window that flag them (with --anticheat-window)")
	score := f.Int64("anticheat-max-score", 0, "points per player and window above which they are flagged (with --anticheat-window)")
	suspendAfter := f.Int("anticheat-suspend-after", 0, "flagged windows within a week that suspend a player (with --anticheat-window; 0: never)")
	return func() globaltelemetry.Settings {
		st := globaltelemetry.Settings{NATSURL: *url, Domain: *domain, Retention: durationOrZero(*retention)}
		if *window > 0 {
			def := globaltelemetry.DefaultRules()
			st.Rules = globaltelemetry.Rules{Window: *window, MaxViolations: *violations, FlagKicks: true, MaxScore: *score,
				SuspendAfter: *suspendAfter, SuspendWindow: def.SuspendWindow}
		}
		return st
	}
}

// telemetryIngestFlags adds the cell's telemetry-ingest flags to f and
// returns what applies them to a cell's Config after parsing.
func telemetryIngestFlags(f *envFlags) func(*cell.Config) error {
	clientRate := f.String("telemetry-client-rate", "", `telemetry batches per player, e.g. "5/s,burst=20" or "off" (default 5/s, burst 20)`)
	serverRate := f.String("telemetry-server-rate", "", `telemetry batches per game server, e.g. "50/s,burst=200" or "off" (default 50/s, burst 200)`)
	inFlight := f.Int("telemetry-max-in-flight", telemetry.DefaultMaxInFlight, "telemetry batches published at once before the cell answers 503")
	return func(cfg *cell.Config) error {
		cfg.TelemetryMaxInFlight = *inFlight
		for _, x := range []struct {
			spec   string
			limits *telemetry.Limits
			def    telemetry.Limits
		}{{*clientRate, &cfg.TelemetryClient, telemetry.DefaultClientLimits()}, {*serverRate, &cfg.TelemetryServer, telemetry.DefaultServerLimits()}} {
			if x.spec == "" {
				continue
			}
			r, err := ratelimit.ParseRate(x.spec)
			if err != nil {
				return fmt.Errorf("telemetry rate %q: %w", x.spec, err)
			}
			*x.limits = x.def
			x.limits.Rate = r
		}
		return nil
	}
}
