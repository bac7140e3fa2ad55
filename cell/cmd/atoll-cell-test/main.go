// Command atoll-cell-test runs a cell from ATOLL_* environment variables, as
// `atoll cell` does, so tests can run a cell as a real child process (and
// kill it with SIGKILL). Once started it prints one line to stdout:
// "cell ready <http address>".
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/atollgg/atoll/cell"
	"github.com/atollgg/atoll/internal/obs"
)

// shutdownGrace bounds the drain after SIGTERM.
const shutdownGrace = 20 * time.Second

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Getenv, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "atoll-cell-test:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, err := configFromEnv(getenv)
	if err != nil {
		return err
	}
	level := getenv("ATOLL_LOG_LEVEL")
	if level == "" {
		level = "info"
	}
	if cfg.Log, err = obs.NewLogger(stderr, level); err != nil {
		return err
	}
	c, err := cell.New(cfg)
	if err != nil {
		return err
	}
	if err := c.Start(ctx); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "cell ready %s\n", c.Addr())
	<-ctx.Done()
	sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	return c.Shutdown(sctx)
}

// configFromEnv reads the ATOLL_* variables documented on cell.Config.
func configFromEnv(getenv func(string) string) (cell.Config, error) {
	var errs []error
	num := func(name string) int {
		v := getenv(name)
		if v == "" {
			return 0
		}
		n, err := strconv.Atoi(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: want an integer, got %q", name, v))
		}
		return n
	}
	dur := func(name string) time.Duration {
		v := getenv(name)
		if v == "" {
			return 0
		}
		d, err := time.ParseDuration(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: want a duration such as 2s, got %q", name, v))
		}
		return d
	}
	cfg := cell.Config{
		CellID: getenv("ATOLL_CELL_ID"), Region: getenv("ATOLL_REGION"), HTTPAddr: getenv("ATOLL_HTTP_ADDR"),
		PublicURL: getenv("ATOLL_PUBLIC_URL"), GlobalURL: getenv("ATOLL_GLOBAL_URL"), GlobalIssuer: getenv("ATOLL_GLOBAL_ISSUER"),
		DataDir: getenv("ATOLL_DATA_DIR"), ServiceToken: getenv("ATOLL_SERVICE_TOKEN"),
		ConsulAddr: getenv("ATOLL_CONSUL_ADDR"), ConsulToken: getenv("ATOLL_CONSUL_TOKEN"),
		NATSPort: num("ATOLL_NATS_PORT"), NATSHost: getenv("ATOLL_NATS_HOST"), HubURL: getenv("ATOLL_HUB_URL"),
		ModesFile: getenv("ATOLL_MODES_FILE"), GameHost: getenv("ATOLL_GAME_HOST"),
		MatchInterval: dur("ATOLL_MATCH_INTERVAL"), ConnectTokenTTL: dur("ATOLL_CONNECT_TOKEN_TTL"),
		WarmServers: num("ATOLL_WARM_SERVERS"), MaxServers: num("ATOLL_MAX_SERVERS"),
		HeartbeatPeriod: dur("ATOLL_HEARTBEAT_PERIOD"),
	}
	if v := getenv("ATOLL_DEFAULT_RATING"); v != "" {
		r, err := strconv.ParseFloat(v, 64)
		if err != nil {
			errs = append(errs, fmt.Errorf("ATOLL_DEFAULT_RATING: want a number, got %q", v))
		}
		cfg.DefaultRating = r
	}
	if v := getenv("ATOLL_GAMESERVER_COMMAND"); v != "" {
		cfg.GameServerCommand = strings.Fields(v)
	}
	if v := getenv("ATOLL_GAMESERVER_ENV"); v != "" {
		cfg.GameServerEnv = strings.Split(v, ",")
	}
	if v := getenv("ATOLL_GAME_PORTS"); v != "" {
		lo, hi, ok := strings.Cut(v, "-")
		a, err1 := strconv.Atoi(lo)
		b, err2 := strconv.Atoi(hi)
		if !ok || err1 != nil || err2 != nil {
			errs = append(errs, fmt.Errorf("ATOLL_GAME_PORTS: want min-max such as 7700-7999, got %q", v))
		}
		cfg.GamePortMin, cfg.GamePortMax = a, b
	}
	return cfg, errors.Join(errs...)
}
