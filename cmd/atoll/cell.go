package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/atollgg/atoll/cell"
	"github.com/atollgg/atoll/cell/bus"
	"github.com/atollgg/atoll/cell/fleet"
	"github.com/atollgg/atoll/cell/matchmaking"
	"github.com/atollgg/atoll/cell/ratings"
	"github.com/atollgg/atoll/internal/obs"
	"github.com/atollgg/atoll/internal/tokens"
)

func runCell(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	f := newFlags("cell", stderr)
	id := f.String("cell-id", "", "this cell's id, e.g. eu-west-1a (required)")
	region := f.String("region", "", "the region this cell serves (required)")
	addr := f.String("http-addr", "127.0.0.1:8090", "HTTP listen address")
	public := f.String("public-url", "", "URL players use to reach this cell (default http://<http-addr>)")
	globalURL := f.String("global-url", "", "the global core's URL (required)")
	issuer := f.String("global-issuer", "", "issuer of the core's access tokens (default: the global URL)")
	dataDir := f.String("data-dir", "", "JetStream storage, cached JWKS and connect-token keys (required)")
	service := f.String("service-token", "", "this cell's service credential at the global core")
	consul := f.String("consul-addr", "", "Consul agent address; empty disables registration")
	consulToken := f.String("consul-token", "", "Consul ACL token")
	natsPort := f.Int("nats-port", 0, "NATS client port for external clients (0: in-process only)")
	natsHost := f.String("nats-host", "", "NATS client listen host (default 127.0.0.1)")
	hub := f.String("hub-url", "", "leaf-node remote URL of the global hub; empty runs standalone")
	natsUser := f.String("nats-user", "", "user every NATS client must log in as (required with a non-loopback --nats-host)")
	natsPass := f.String("nats-password", "", "password of --nats-user (at least 16 characters)")
	hubSecret := f.String("hub-secret", "", "this cell's leaf password at the hub (its entry in the core's ATOLL_HUB_CELLS)")
	hubCreds := f.String("hub-creds", "", "NATS .creds file for an operator's hub (instead of --hub-secret)")
	hubCert := f.String("hub-tls-cert", "", "client certificate for the leaf connection (PEM)")
	hubKey := f.String("hub-tls-key", "", "client key for the leaf connection (PEM)")
	hubCA := f.String("hub-tls-ca", "", "CA that verifies the hub's certificate (default: system roots)")
	modes := f.String("modes-file", "", "YAML file of game modes (default: built-in duel, 2v2, 5v5, ffa8)")
	leaderboards := f.String("leaderboards-file", "", "YAML file of leaderboard definitions (empty: no leaderboards)")
	rating := f.Float64("default-rating", ratings.DefaultRating, "rating of players without one")
	interval := f.Duration("match-interval", matchmaking.DefaultPassInterval, "matchmaking pass interval (at most "+matchmaking.MaxPassInterval.String()+")")
	ctt := f.Duration("connect-token-ttl", tokens.DefaultConnectTTL, "connect token lifetime")
	gsCmd := f.String("gameserver-command", "", "game-server command, space-separated (default: this binary's `gameserver`)")
	gsEnv := f.String("gameserver-env", "", "extra KEY=VALUE environment for game servers, comma-separated")
	gameHost := f.String("game-host", "", "address players connect to game servers at (default 127.0.0.1)")
	ports := f.String("game-ports", "", "game-server port range min-max, e.g. 7700-7999")
	warm := f.Int("warm-servers", cell.DefaultWarmServers, "warm buffer of Ready game servers")
	maxServers := f.Int("max-servers", fleet.DefaultMax, "maximum game servers")
	maxWS := f.Int("max-websockets", matchmaking.DefaultMaxWSConnections, "most open matchmaking WebSockets, /ws (at most "+strconv.Itoa(matchmaking.MaxWSConnectionsLimit)+")")
	hb := f.Duration("heartbeat-period", fleet.DefaultHeartbeatPeriod, "game-server heartbeat period")
	fwdRelay := f.String("forward-relay", "", "host:port of the region's relay; players get it instead of game servers' addresses")
	fwdKey := f.String("forward-key-file", "", "hex key shared with the region's relays (with --forward-relay)")
	logLevel := f.String("log-level", "info", "debug, info, warn or error")
	applyTelemetry := telemetryIngestFlags(f)
	f.markSecret("service-token", "consul-token", "nats-password", "hub-secret")
	if err := f.parse(args); err != nil {
		return err
	}
	log, err := obs.NewLogger(stderr, *logLevel)
	if err != nil {
		return err
	}
	cfg := cell.Config{
		CellID: *id, Region: *region, HTTPAddr: *addr, PublicURL: strings.TrimRight(*public, "/"), GlobalURL: strings.TrimRight(*globalURL, "/"),
		GlobalIssuer: *issuer, DataDir: *dataDir, ServiceToken: *service, ConsulAddr: *consul, ConsulToken: *consulToken,
		NATSPort: *natsPort, NATSHost: *natsHost, HubURL: *hub, ModesFile: *modes, DefaultRating: *rating,
		MatchInterval: *interval, ConnectTokenTTL: *ctt, GameHost: *gameHost, WarmServers: *warm, MaxServers: *maxServers,
		HeartbeatPeriod: *hb, Log: log, MaxWebSockets: *maxWS,
		LeaderboardsFile: *leaderboards,
		ForwardRelay:     *fwdRelay, ForwardKeyFile: *fwdKey,
		NATSUser: *natsUser, NATSPassword: *natsPass, HubSecret: *hubSecret, HubCreds: *hubCreds,
		HubTLS: bus.TLSFiles{Cert: *hubCert, Key: *hubKey, CA: *hubCA},
	}
	if err := applyTelemetry(&cfg); err != nil {
		return err
	}
	if *gsCmd != "" {
		cfg.GameServerCommand = strings.Fields(*gsCmd)
	}
	if *gsEnv != "" {
		cfg.GameServerEnv = strings.Split(*gsEnv, ",")
	}
	if *ports != "" {
		lo, hi, ok := strings.Cut(*ports, "-")
		a, err1 := strconv.Atoi(lo)
		b, err2 := strconv.Atoi(hi)
		if !ok || err1 != nil || err2 != nil {
			return fmt.Errorf("game ports: want min-max such as 7700-7999, got %q", *ports)
		}
		cfg.GamePortMin, cfg.GamePortMax = a, b
	}
	c, err := cell.New(cfg)
	if err != nil {
		return err
	}
	if err := c.Start(ctx); err != nil {
		return err
	}
	// One line on stdout once serving, for supervisors and scripts.
	fmt.Fprintf(stdout, "cell ready %s\n", c.Addr())
	<-ctx.Done()
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	return c.Shutdown(sctx)
}
