package sdk

import (
	"errors"
	"fmt"
	"strconv"
	"time"
)

// Environment variables the cell sets for every game server it starts.
const (
	// EnvSDKAddr is the host:port of the SDK API.
	EnvSDKAddr = "ATOLL_SDK_ADDR"
	// EnvSDKSecret is the server's secret for the SDK API. Never log it.
	EnvSDKSecret = "ATOLL_SDK_SECRET"
	// EnvServerID is the server's id, also the audience of its connect
	// tokens.
	EnvServerID = "ATOLL_SERVER_ID"
	// EnvGamePort is the port the server must accept players on.
	EnvGamePort = "ATOLL_GAME_PORT"
	// EnvGameHost is the address players are told to connect to; a server
	// binds it unless EnvGameBind says otherwise.
	EnvGameHost = "ATOLL_GAME_HOST"
	// EnvGameBind, optional, is the address to bind instead of EnvGameHost
	// (e.g. 0.0.0.0 behind NAT). The cell sets it only if the operator does.
	EnvGameBind = "ATOLL_GAME_BIND"
	// EnvHeartbeatPeriod is how often the server must call POST /v1/health
	// (a Go duration, e.g. "2s").
	EnvHeartbeatPeriod = "ATOLL_HEARTBEAT_PERIOD"
)

// DefaultHeartbeatPeriod is the heartbeat period when EnvHeartbeatPeriod is
// unset; the cell's default (2 s × 3 misses) detects a hung server in 6 s.
const DefaultHeartbeatPeriod = 2 * time.Second

// DefaultGiveUpAfter is how long Heartbeat keeps failing before it reports
// the cell gone for good: a cell restart takes seconds, so five minutes of
// silence means nobody will ever allocate (or stop) this server.
const DefaultGiveUpAfter = 5 * time.Minute

// Config configures a Client.
type Config struct {
	// Addr is the SDK API's host:port. Required.
	Addr string
	// ServerID is this server's id. Required.
	ServerID string
	// Secret authenticates this server. Required.
	Secret string
	// HeartbeatPeriod is how often Heartbeat calls the cell; zero means
	// DefaultHeartbeatPeriod.
	HeartbeatPeriod time.Duration
	// GiveUpAfter is how long heartbeats may fail before Heartbeat returns
	// ErrCellUnreachable; zero means DefaultGiveUpAfter.
	GiveUpAfter time.Duration
}

// EnvDuration is a positive duration read from the variable Env into Dst.
type EnvDuration struct {
	Env string
	Dst *time.Duration
}

// ReadDurations sets each Dst whose variable is set; a value that is not a
// positive duration is an error naming the variable, and leaves Dst alone.
func ReadDurations(getenv func(string) string, ds ...EnvDuration) []error {
	var errs []error
	for _, d := range ds {
		v := getenv(d.Env)
		if v == "" {
			continue
		}
		dur, err := time.ParseDuration(v)
		if err != nil || dur <= 0 {
			errs = append(errs, fmt.Errorf("%s: want a positive duration such as 30s, got %q", d.Env, v))
			continue
		}
		*d.Dst = dur
	}
	return errs
}

// ConfigFromEnv reads the client configuration the cell passes in the
// environment through getenv (os.Getenv in a real server).
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	cfg := Config{
		Addr:     getenv(EnvSDKAddr),
		ServerID: getenv(EnvServerID),
		Secret:   getenv(EnvSDKSecret),
	}
	if errs := ReadDurations(getenv, EnvDuration{Env: EnvHeartbeatPeriod, Dst: &cfg.HeartbeatPeriod}); errs != nil {
		return Config{}, errs[0]
	}
	if err := cfg.validate(); err != nil {
		return Config{}, err
	}
	return cfg, nil
}

func (c *Config) validate() error {
	var errs []error
	if c.Addr == "" {
		errs = append(errs, fmt.Errorf("%s is not set", EnvSDKAddr))
	}
	if err := ValidateID(c.ServerID); err != nil {
		errs = append(errs, fmt.Errorf("%s: %w", EnvServerID, err))
	}
	if c.Secret == "" {
		errs = append(errs, fmt.Errorf("%s is not set", EnvSDKSecret))
	}
	if c.HeartbeatPeriod < 0 || c.GiveUpAfter < 0 {
		errs = append(errs, errors.New("negative heartbeat period or give-up delay"))
	}
	return errors.Join(errs...)
}

// GamePort reads EnvGamePort through getenv.
func GamePort(getenv func(string) string) (int, error) {
	v := getenv(EnvGamePort)
	if v == "" {
		return 0, fmt.Errorf("%s is not set", EnvGamePort)
	}
	p, err := strconv.Atoi(v)
	if err != nil || p < 1 || p > 65535 {
		return 0, fmt.Errorf("%s: want a port 1..65535, got %q", EnvGamePort, v)
	}
	return p, nil
}
