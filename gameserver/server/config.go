package server

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/atollgg/atoll/gameserver/sdk"
)

// Environment variables of the reference game, on top of the SDK's.
const (
	// EnvGameDuration is the timed game's length (a Go duration).
	EnvGameDuration = "ATOLL_GAME_DURATION"
	// EnvGameJoinTimeout is how long the timed game waits for its players.
	EnvGameJoinTimeout = "ATOLL_GAME_JOIN_TIMEOUT"
)

// DefaultBind is the address a server binds when neither sdk.EnvGameBind
// nor sdk.EnvGameHost is set: loopback, safe for a server run by hand.
const DefaultBind = "127.0.0.1"

// Config is a game server's whole configuration.
type Config struct {
	// SDK configures the client of the cell's SDK API. Required.
	SDK sdk.Config
	// Bind is the address to accept players on; empty means DefaultBind.
	Bind string
	// Port is the game port. Required.
	Port int
	// NewGame makes the game for the allocated match; nil means the Timed
	// game with Duration and JoinTimeout.
	NewGame NewGameFunc
	// Duration and JoinTimeout configure the default Timed game; zero means
	// DefaultDuration and DefaultJoinTimeout.
	Duration    time.Duration
	JoinTimeout time.Duration
	// Log receives the server's logs; nil discards them.
	Log *slog.Logger
}

// ConfigFromEnv reads the configuration the cell passes in the environment
// (see sdk's Env* constants, EnvGameDuration and EnvGameJoinTimeout)
// through getenv.
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	var errs []error
	sdkCfg, err := sdk.ConfigFromEnv(getenv)
	errs = append(errs, err)
	port, err := sdk.GamePort(getenv)
	errs = append(errs, err)
	cfg := Config{SDK: sdkCfg, Port: port, Bind: getenv(sdk.EnvGameBind)}
	if cfg.Bind == "" {
		cfg.Bind = getenv(sdk.EnvGameHost)
	}
	errs = append(errs, sdk.ReadDurations(getenv, sdk.EnvDuration{Env: EnvGameDuration, Dst: &cfg.Duration}, sdk.EnvDuration{Env: EnvGameJoinTimeout, Dst: &cfg.JoinTimeout})...)
	if err := errors.Join(errs...); err != nil {
		return Config{}, fmt.Errorf("game server config: %w", err)
	}
	return cfg, nil
}

func (c *Config) applyDefaults() {
	if c.Bind == "" {
		c.Bind = DefaultBind
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	if c.NewGame == nil {
		timed := Timed{Duration: c.Duration, JoinTimeout: c.JoinTimeout}
		c.NewGame = func(Match) (Game, error) { return timed, nil }
	}
}

func (c *Config) validate() error {
	if c.Port < 1 || c.Port > 65535 {
		return fmt.Errorf("game port %d: want 1..65535", c.Port)
	}
	if c.Duration < 0 || c.JoinTimeout < 0 {
		return errors.New("negative game duration or join timeout")
	}
	return nil
}
