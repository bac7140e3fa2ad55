// Package devstack runs Atoll's whole stack on one machine in one process (a
// throwaway PostgreSQL, the global core) and walks a player through it.
package devstack

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/atollgg/atoll/global"
	"github.com/atollgg/atoll/internal/pglocal"
)

// Config configures Run.
type Config struct {
	// GlobalAddr is the global core's listen address; empty means 127.0.0.1:8080.
	GlobalAddr string
	// DatabaseURL, when set, is used instead of a throwaway PostgreSQL.
	DatabaseURL string
	// DataDir holds keys; empty means a temporary directory removed at exit.
	DataDir string
	// ExitAfterWalk stops the stack once the walk is printed (for scripts and tests).
	ExitAfterWalk bool
	Log           *slog.Logger
	Out           io.Writer
}

// stopGrace bounds shutting the stack down.
const stopGrace = 15 * time.Second

// Run starts the stack, prints the walk to cfg.Out and serves until ctx ends.
func Run(ctx context.Context, cfg Config) error {
	if cfg.GlobalAddr == "" {
		cfg.GlobalAddr = "127.0.0.1:8080"
	}
	out := cfg.Out
	if out == nil {
		out = os.Stdout
	}
	if cfg.DataDir == "" {
		d, err := os.MkdirTemp("", "atoll-dev-")
		if err != nil {
			return fmt.Errorf("dev data dir: %w", err)
		}
		defer os.RemoveAll(d)
		cfg.DataDir = d
	}
	dbURL := cfg.DatabaseURL
	if dbURL == "" {
		fmt.Fprintln(out, "Starting a throwaway PostgreSQL…")
		pg, err := pglocal.Start(ctx, pglocal.Options{})
		if err != nil {
			return fmt.Errorf("start PostgreSQL: %w", err)
		}
		defer pg.Stop()
		dbURL = pg.URL
	}
	core, err := global.New(ctx, global.Config{
		DatabaseURL: dbURL, HTTPAddr: cfg.GlobalAddr, DataDir: cfg.DataDir,
		AdminToken: DevAdminToken, Log: cfg.Log,
	})
	if err != nil {
		return fmt.Errorf("start global core: %w", err)
	}
	if err := core.Start(ctx); err != nil {
		_ = core.Shutdown(context.Background())
		return fmt.Errorf("start global core: %w", err)
	}
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), stopGrace)
		defer cancel()
		_ = core.Shutdown(sctx)
	}()
	fmt.Fprintf(out, "Global core listening on %s\n\n", core.URL())
	if err := Walk(ctx, core.URL(), out); err != nil {
		return fmt.Errorf("walk: %w", err)
	}
	if cfg.ExitAfterWalk {
		return nil
	}
	fmt.Fprintf(out, "\nThe stack keeps running: try  curl %s/.well-known/jwks.json   (Ctrl-C stops it)\n", core.URL())
	<-ctx.Done()
	return nil
}

// DevAdminToken is the admin token of the local development stack only.
const DevAdminToken = "dev-admin-token-change-me"
