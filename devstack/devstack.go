// Package devstack runs Atoll's whole stack on one machine in one process (a
// throwaway PostgreSQL, the global core, one regional cell with its
// game-server fleet) and walks a player through it.
package devstack

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/atollgg/atoll/cell"
	"github.com/atollgg/atoll/global"
	"github.com/atollgg/atoll/global/hub"
	"github.com/atollgg/atoll/global/payments"
	"github.com/atollgg/atoll/internal/authn"
	"github.com/atollgg/atoll/internal/obs"
	"github.com/atollgg/atoll/internal/pglocal"
)

// Development-only credentials: the stack listens on loopback and is thrown
// away at exit, so fixed values keep the demo reproducible.
const (
	DevAdminToken = "dev-admin-token-change-me"
	DevCellID     = "dev-local-1"
	devCellToken  = "dev-cell-token-change-me"
	devLeafSecret = "dev-leaf-secret-change-me" // the cell's leaf password at the hub
)

// stopGrace bounds shutting the stack down; drainGrace is the part of it
// running games get before their servers are killed.
const (
	stopGrace  = 15 * time.Second
	drainGrace = 3 * time.Second
)

// Config configures Start.
type Config struct {
	// GlobalAddr is the global core's listen address; empty means 127.0.0.1:8080.
	GlobalAddr string
	// CellAddr is the cell's listen address; empty means 127.0.0.1:8090.
	CellAddr string
	// DatabaseURL, when set, is used instead of a throwaway PostgreSQL.
	DatabaseURL string
	// DataDir holds keys and the cell's JetStream; empty means a temporary
	// directory removed by Stop.
	DataDir string
	// GameServerCommand starts a game server; empty means this binary's
	// `gameserver` subcommand (right for `atoll dev`; tests pass a built atoll).
	GameServerCommand []string
	// GameServerEnv is extra environment for game servers; nil means a
	// 15 s match time limit (the walk plays one match).
	GameServerEnv []string
	// Log is the logger; nil discards logs.
	Log *slog.Logger
}

// Stack is a running local stack.
type Stack struct {
	Global *global.Server
	Cell   *cell.Cell
	pg     *pglocal.Server
	tmp    string
}

// GlobalURL is the global core's base URL.
func (s *Stack) GlobalURL() string { return s.Global.URL() }

// CellURL is the cell's base URL.
func (s *Stack) CellURL() string { return s.Cell.URL() }

// Start runs PostgreSQL (unless cfg.DatabaseURL is set), the global core and
// one cell with its fleet.
func Start(ctx context.Context, cfg Config) (_ *Stack, err error) {
	if cfg.GlobalAddr == "" {
		cfg.GlobalAddr = "127.0.0.1:8080"
	}
	if cfg.CellAddr == "" {
		cfg.CellAddr = "127.0.0.1:8090"
	}
	if cfg.Log == nil {
		cfg.Log = obs.Discard()
	}
	s := &Stack{}
	defer func() {
		if err != nil {
			s.Stop()
		}
	}()
	if cfg.DataDir == "" {
		if s.tmp, err = os.MkdirTemp("", "atoll-dev-"); err != nil {
			return nil, fmt.Errorf("dev data dir: %w", err)
		}
		cfg.DataDir = s.tmp
	}
	dbURL := cfg.DatabaseURL
	if dbURL == "" {
		if s.pg, err = pglocal.Start(ctx, pglocal.Options{}); err != nil {
			return nil, fmt.Errorf("start PostgreSQL: %w", err)
		}
		dbURL = s.pg.URL
	}
	cellURL := "http://" + cfg.CellAddr
	s.Global, err = global.New(ctx, global.Config{
		DatabaseURL: dbURL, HTTPAddr: cfg.GlobalAddr, DataDir: filepath.Join(cfg.DataDir, "global"),
		AdminToken: DevAdminToken, CellTokens: authn.Secrets{DevCellID: devCellToken},
		CORSOrigins: []string{cellURL}, Log: cfg.Log,
		// Fake payments are what a local stack wants; never in production.
		Payments: payments.Settings{Provider: "dev"},
		// The bus: an embedded hub on a free loopback leaf port.
		Hub: &hub.Config{LeafHost: "127.0.0.1", LeafPort: hub.RandomPort, Cells: map[string]string{DevCellID: devLeafSecret}},
	})
	if err != nil {
		return nil, fmt.Errorf("global core: %w", err)
	}
	if err = s.Global.Start(ctx); err != nil {
		return nil, fmt.Errorf("global core: %w", err)
	}
	gameEnv := cfg.GameServerEnv
	if gameEnv == nil {
		// A short match, so the walk's bot duel finishes quickly.
		gameEnv = []string{"ATOLL_GAME_DURATION=15s"}
	}
	s.Cell, err = cell.New(cell.Config{
		CellID: DevCellID, Region: "local", HTTPAddr: cfg.CellAddr, PublicURL: cellURL,
		GlobalURL: s.Global.URL(), DataDir: filepath.Join(cfg.DataDir, "cell"), ServiceToken: devCellToken,
		GameServerCommand: cfg.GameServerCommand, GameServerEnv: gameEnv, Log: cfg.Log,
		HubURL: s.Global.Hub.LeafURL(), HubSecret: devLeafSecret,
	})
	if err != nil {
		return nil, fmt.Errorf("cell: %w", err)
	}
	if err = s.Cell.Start(ctx); err != nil {
		s.Cell = nil
		return nil, fmt.Errorf("cell: %w", err)
	}
	return s, nil
}

// Stop shuts everything down and removes temporary data.
func (s *Stack) Stop() error {
	ctx, cancel := context.WithTimeout(context.Background(), stopGrace)
	defer cancel()
	var errs []error
	if s.Cell != nil {
		// A production cell leaves its game servers running for the next
		// cell process to re-adopt; a dev stack is thrown away, so it takes
		// its game servers with it.
		dctx, dcancel := context.WithTimeout(ctx, drainGrace)
		errs = append(errs, s.Cell.Fleet.Drain(dctx))
		dcancel()
		errs = append(errs, s.Cell.Shutdown(ctx))
	}
	if s.Global != nil {
		errs = append(errs, s.Global.Shutdown(ctx))
	}
	if s.pg != nil {
		errs = append(errs, s.pg.Stop())
	}
	if s.tmp != "" {
		_ = os.RemoveAll(s.tmp)
	}
	return errors.Join(errs...)
}

// RunConfig configures Run.
type RunConfig struct {
	Config
	// ExitAfterWalk stops the stack once the walk is printed (scripts, tests).
	ExitAfterWalk bool
	Out           io.Writer
}

// Run starts the stack, prints the walk and serves until ctx ends.
func Run(ctx context.Context, cfg RunConfig) error {
	out := cfg.Out
	if out == nil {
		out = os.Stdout
	}
	fmt.Fprintln(out, "Starting the local stack: PostgreSQL, the global core, a cell with its game-server fleet…")
	s, err := Start(ctx, cfg.Config)
	if err != nil {
		return err
	}
	defer s.Stop()
	fmt.Fprintf(out, "Global core: %s\nCell:        %s\n\n", s.GlobalURL(), s.CellURL())
	if err := Walk(ctx, s.GlobalURL(), s.CellURL(), out); err != nil {
		return fmt.Errorf("walk: %w", err)
	}
	if cfg.ExitAfterWalk {
		return nil
	}
	fmt.Fprintf(out, "\nThe stack keeps running (Ctrl-C stops it). Play in a browser: %s/play/\n", s.CellURL())
	<-ctx.Done()
	return nil
}
