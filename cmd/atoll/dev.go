package main

import (
	"context"
	"fmt"
	"io"

	"github.com/atollgg/atoll/devstack"
	"github.com/atollgg/atoll/internal/obs"
)

func runDev(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	f := newFlags("dev", stderr)
	addr := f.String("global-addr", "127.0.0.1:8080", "global core listen address (127.0.0.1:0 = a free port)")
	topo := f.String("topology-dir", devstack.DefaultTopologyDir, "the world to run: its regions, cells and relays (addresses are replaced by free loopback ports)")
	dbURL := f.String("dev-database-url", "", "use this database instead of a throwaway PostgreSQL")
	bots := f.Int("bots", 6, "bots playing the whole journey (in pairs per region)")
	duration := f.Duration("duration", 0, "stop after this long and print the summary (0 = until Ctrl-C)")
	walk := f.Bool("walk", false, "print the account and economy walk first")
	human := f.String("human-region", "", "the region a browser on 127.0.0.1 lives in for the simulated distance (empty = eu-west)")
	noForward := f.Bool("no-forward", false, "players connect to game servers directly instead of through the relays")
	fill := f.Duration("human-fill-after", devstack.DefaultHumanFillAfter, "a ticket waiting alone this long gets a bot opponent (negative = never)")
	logLevel := f.String("log-level", "error", "debug, info, warn or error")
	if err := f.parse(args); err != nil {
		return err
	}
	log, err := obs.NewLogger(stderr, *logLevel)
	if err != nil {
		return err
	}
	sum, err := devstack.Run(ctx, devstack.RunConfig{
		Config: devstack.Config{GlobalAddr: *addr, TopologyDir: *topo, DatabaseURL: *dbURL, HumanRegion: *human,
			NoForward: *noForward, Log: log},
		Bots: *bots, Duration: *duration, Walk: *walk, HumanFillAfter: *fill, Out: stdout,
	})
	if err != nil {
		return err
	}
	if *duration > 0 && sum.TotalErrors() > 0 {
		return fmt.Errorf("the bots met %d errors (last: %s)", sum.TotalErrors(), sum.LastError)
	}
	return nil
}
