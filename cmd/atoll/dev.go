package main

import (
	"context"
	"io"

	"github.com/atollgg/atoll/devstack"
	"github.com/atollgg/atoll/internal/obs"
)

func runDev(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	f := newFlags("dev", stderr)
	addr := f.String("global-addr", "127.0.0.1:8080", "global core listen address")
	cellAddr := f.String("cell-addr", "127.0.0.1:8090", "cell listen address")
	dbURL := f.String("dev-database-url", "", "use this database instead of a throwaway PostgreSQL")
	exit := f.Bool("exit-after-walk", false, "stop once the walk is printed")
	logLevel := f.String("log-level", "error", "debug, info, warn or error")
	if err := f.parse(args); err != nil {
		return err
	}
	log, err := obs.NewLogger(stderr, *logLevel)
	if err != nil {
		return err
	}
	return devstack.Run(ctx, devstack.RunConfig{
		Config:        devstack.Config{GlobalAddr: *addr, CellAddr: *cellAddr, DatabaseURL: *dbURL, Log: log},
		ExitAfterWalk: *exit, Out: stdout,
	})
}
