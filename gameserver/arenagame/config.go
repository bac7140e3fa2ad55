package arenagame

import (
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/atollgg/atoll/gameserver/arena"
	"github.com/atollgg/atoll/gameserver/sdk"
	"github.com/atollgg/atoll/gameserver/server"
)

// Defaults of Config's zero values.
const (
	// DefaultSnapshotRate is snapshots per second per client: 30 Hz keeps
	// remote players smooth with interpolation while a delta costs a few
	// kilobytes a second (see BenchmarkTick64Bots).
	DefaultSnapshotRate = 30
	// DefaultJoinTimeout is how long a match waits for all its players
	// before starting with those present: long enough for a browser to load
	// the page's assets and dial, short enough that the others do not leave.
	DefaultJoinTimeout = 30 * time.Second
	// inputGateFramesPerTick sizes the default per-connection flood budget:
	// an honest client sends one input frame per tick plus a ping a second,
	// so two per tick leaves room for jitter while a flood stands out.
	inputGateFramesPerTick = 2
)

// Environment variables of the arena game, on top of the server package's
// (whose EnvGameDuration sets the time limit and EnvGameJoinTimeout the
// join timeout).
const (
	// EnvTickRate is simulation ticks per second (default 30, at most
	// arena.MaxTickRate).
	EnvTickRate = "ATOLL_TICK_RATE"
	// EnvSnapshotRate is snapshots per second per client (default 30).
	EnvSnapshotRate = "ATOLL_SNAPSHOT_RATE"
	// EnvScoreLimit ends the match when a player reaches it.
	EnvScoreLimit = "ATOLL_SCORE_LIMIT"
	// EnvReconnectGrace is how long a dropped player's seat waits (a Go
	// duration).
	EnvReconnectGrace = "ATOLL_RECONNECT_GRACE"
)

// Config is the arena game's whole configuration.
type Config struct {
	// Arena is the match's rules; zero fields take arena's defaults. A zero
	// Seed is derived from the session id, so every match differs yet the
	// same session replays identically. A zero InputGateBudget allows two
	// frames per tick.
	Arena arena.Config
	// SnapshotRate is snapshots per second sent to each client, at most
	// the tick rate; zero means DefaultSnapshotRate, or the tick rate if
	// that is lower.
	SnapshotRate int
	// JoinTimeout is how long the match waits for all its players before
	// starting with those present; zero means DefaultJoinTimeout.
	JoinTimeout time.Duration
	// Log receives the game's logs; nil discards them.
	Log *slog.Logger
}

// withDefaults returns c with every zero field set.
func (c Config) withDefaults() Config {
	scaleGate := c.Arena.InputGateBudget == 0 && c.Arena.InputGateWindow == 0
	c.Arena = c.Arena.WithDefaults()
	if scaleGate {
		// arena's default budget assumes its default 30 Hz; scale it with
		// the tick rate over its one-second window.
		c.Arena.InputGateBudget = inputGateFramesPerTick * c.Arena.TickRate * int(c.Arena.InputGateWindow/time.Second)
	}
	if c.SnapshotRate == 0 {
		c.SnapshotRate = min(DefaultSnapshotRate, c.Arena.TickRate)
	}
	if c.JoinTimeout == 0 {
		c.JoinTimeout = DefaultJoinTimeout
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	return c
}

// Validate reports every problem with c.
func (c Config) Validate() error {
	var errs []error
	if err := c.Arena.Validate(); err != nil {
		errs = append(errs, err)
	}
	d := c.withDefaults()
	if c.SnapshotRate < 0 || d.SnapshotRate > d.Arena.TickRate {
		errs = append(errs, fmt.Errorf("snapshot rate %d: want 1 to the tick rate (%d)", c.SnapshotRate, d.Arena.TickRate))
	}
	if c.JoinTimeout < 0 {
		errs = append(errs, errors.New("negative join timeout"))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("arena game config: %w", err)
	}
	return nil
}

// ConfigFromEnv reads the arena's settings from the environment through
// getenv: EnvTickRate, EnvSnapshotRate, EnvScoreLimit, EnvReconnectGrace,
// server.EnvGameDuration (the time limit) and server.EnvGameJoinTimeout.
// Unset variables keep their defaults.
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	var (
		cfg  Config
		errs []error
	)
	ints := []struct {
		env string
		dst *int
	}{{EnvTickRate, &cfg.Arena.TickRate}, {EnvSnapshotRate, &cfg.SnapshotRate}, {EnvScoreLimit, &cfg.Arena.ScoreLimit}}
	for _, v := range ints {
		s := getenv(v.env)
		if s == "" {
			continue
		}
		n, err := strconv.Atoi(s)
		if err != nil || n <= 0 {
			errs = append(errs, fmt.Errorf("%s: want a positive integer, got %q", v.env, s))
			continue
		}
		*v.dst = n
	}
	errs = append(errs, sdk.ReadDurations(getenv,
		sdk.EnvDuration{Env: server.EnvGameDuration, Dst: &cfg.Arena.TimeLimit},
		sdk.EnvDuration{Env: server.EnvGameJoinTimeout, Dst: &cfg.JoinTimeout},
		sdk.EnvDuration{Env: EnvReconnectGrace, Dst: &cfg.Arena.ReconnectGrace},
	)...)
	if err := errors.Join(errs...); err != nil {
		return Config{}, fmt.Errorf("arena game config: %w", err)
	}
	if err := cfg.Validate(); err != nil {
		return Config{}, err
	}
	return cfg, nil
}
