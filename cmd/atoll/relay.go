package main

import (
	"context"
	"fmt"
	"io"

	"github.com/atollgg/atoll/internal/obs"
	"github.com/atollgg/atoll/relay"
)

// runRelay runs a relay: beacon, browser ping, /route and, with a forward
// key, forwarded play.
func runRelay(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	f := newFlags("relay", stderr)
	id := f.String("relay-id", "", "this relay's id as declared in the topology (required)")
	topo := f.String("topology-dir", "", "folder of topology files (required; see topology/example)")
	addr := f.String("http-addr", "127.0.0.1:8091", "HTTP listen address (/ping, /route, /topology, /play)")
	beaconAddr := f.String("beacon-addr", "", "UDP beacon listen address (default: the relay's beacon in the topology)")
	public := f.String("public-url", "", "URL players reach this relay at (default: the relay's url in the topology)")
	consul := f.String("consul-addr", "", "Consul agent address; empty: no registration, every declared cell healthy")
	consulToken := f.String("consul-token", "", "Consul ACL token")
	probe := f.Duration("cell-probe-interval", 0, "without Consul: probe the declared cells' /readyz this often (0: off, every cell healthy)")
	issuer := f.String("global-issuer", "", "issuer of the core's access tokens (default: the core's api_url in the topology)")
	dataDir := f.String("data-dir", "", "where fetched JWKS are cached (empty: no disk cache)")
	workers := f.Int("beacon-workers", 0, "beacon sockets and goroutines (0: one per CPU)")
	forwardKey := f.String("forward-key-file", "", "hex key shared with the region's cells; enables forwarded play (/play)")
	maxConns := f.Int("max-forwarded", relay.DefaultMaxConns, "maximum forwarded connections")
	logLevel := f.String("log-level", "info", "debug, info, warn or error")
	f.markSecret("consul-token")
	if err := f.parse(args); err != nil {
		return err
	}
	log, err := obs.NewLogger(stderr, *logLevel)
	if err != nil {
		return err
	}
	r, err := relay.New(relay.Config{
		RelayID: *id, TopologyDir: *topo, HTTPAddr: *addr, BeaconAddr: *beaconAddr, PublicURL: *public,
		ConsulAddr: *consul, ConsulToken: *consulToken, CellProbeInterval: durationOrZero(*probe), GlobalIssuer: *issuer, DataDir: *dataDir,
		BeaconWorkers: *workers, Forward: relay.ForwardConfig{KeyFile: *forwardKey, MaxConns: *maxConns}, Log: log,
	})
	if err != nil {
		return err
	}
	if err := r.Start(ctx); err != nil {
		return err
	}
	// One line on stdout once serving, for supervisors and scripts.
	fmt.Fprintf(stdout, "relay ready %s beacon %s\n", r.Addr(), r.Beacon.Addr())
	<-ctx.Done()
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	return r.Shutdown(sctx)
}
