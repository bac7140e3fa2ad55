package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

func TestFlagsFallBackToEnvironment(t *testing.T) {
	t.Setenv("ATOLL_HTTP_ADDR", "127.0.0.1:9999")
	t.Setenv("ATOLL_DATABASE_URL", "postgres://x@127.0.0.1/db")
	t.Setenv("ATOLL_DATA_DIR", t.TempDir())
	t.Setenv("ATOLL_CELL_TOKENS", "eu-1=0123456789abcdef")
	f, build := globalFlags("global", &bytes.Buffer{})
	// A flag on the command line wins over its variable.
	if err := f.parse([]string{"--http-addr", "127.0.0.1:7777"}); err != nil {
		t.Fatal(err)
	}
	cfg, err := build()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.HTTPAddr != "127.0.0.1:7777" || cfg.DatabaseURL != "postgres://x@127.0.0.1/db" || cfg.CellTokens["eu-1"] == "" {
		t.Fatalf("config %+v", cfg)
	}
}

func TestValidationErrorsAreClear(t *testing.T) {
	var stderr bytes.Buffer
	code := run(context.Background(), []string{"global", "--database-url", ""}, &bytes.Buffer{}, &stderr)
	if code != 1 || !strings.Contains(stderr.String(), "database URL is required") || !strings.Contains(stderr.String(), "data directory is required") {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	stderr.Reset()
	if code := run(context.Background(), []string{"nope"}, &bytes.Buffer{}, &stderr); code != 2 || !strings.Contains(stderr.String(), "unknown command") {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
}

func TestHelpListsEnvironmentAndHidesSecrets(t *testing.T) {
	t.Setenv("ATOLL_ADMIN_TOKEN", "super-secret-admin-token")
	var stderr bytes.Buffer
	if code := run(context.Background(), []string{"global", "--help"}, &bytes.Buffer{}, &stderr); code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, want := range []string{"ATOLL_DATABASE_URL", "ATOLL_HTTP_ADDR", "ATOLL_DATA_DIR", "ATOLL_ADMIN_TOKEN", "ATOLL_AUTH_RATE_LIMIT"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("help lacks %s", want)
		}
	}
	if strings.Contains(stderr.String(), "super-secret") {
		t.Error("help prints a secret")
	}
}
