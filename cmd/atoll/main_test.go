package main

import (
	"bytes"
	"context"
	"regexp"
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

var zeroMeansDefault = regexp.MustCompile(`\(0: (default|[0-9])`)

func TestHelpShowsRealDefaults(t *testing.T) {
	for _, cmd := range []string{"global", "cell", "loadtest"} {
		var stderr bytes.Buffer
		if code := run(context.Background(), []string{cmd, "--help"}, &bytes.Buffer{}, &stderr); code != 0 {
			t.Fatalf("%s --help: exit %d", cmd, code)
		}
		// "(0: default)" or "(0: 1500)" hide the real default behind zero;
		// "(0: never)" is a real meaning of zero.
		if zeroMeansDefault.MatchString(stderr.String()) {
			t.Errorf("%s --help hides a default behind zero:\n%s", cmd, stderr.String())
		}
	}
	var stderr bytes.Buffer
	run(context.Background(), []string{"global", "--help"}, &bytes.Buffer{}, &stderr)
	for _, want := range []string{"argon2id memory in KiB (default \"19456\")", "database pool size (default \"32\")", "(default \"30s\")"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("global --help lacks %q", want)
		}
	}
}

func TestUsageMistakesAreOneLine(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want []string
	}{
		{"unknown flag", nil, []string{"global", "--nope"}, []string{"-nope", "atoll global --help"}},
		{"bad flag value", nil, []string{"global", "--access-ttl", "5"}, []string{"-access-ttl", `"5"`, "a duration such as"}},
		{"bad duration in the environment", map[string]string{"ATOLL_ACCESS_TTL": "soon"}, []string{"global"}, []string{"ATOLL_ACCESS_TTL", `"soon"`, "a duration such as", "--access-ttl"}},
		{"bad number in the environment", map[string]string{"ATOLL_WARM_SERVERS": "two"}, []string{"cell"}, []string{"ATOLL_WARM_SERVERS", `"two"`, "a whole number"}},
		{"stray argument", nil, []string{"global", "extra"}, []string{"unexpected arguments", "--help"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			var stderr bytes.Buffer
			code := run(context.Background(), tc.args, &bytes.Buffer{}, &stderr)
			out := stderr.String()
			if code != 2 || strings.Count(out, "\n") != 1 {
				t.Fatalf("exit %d, %d lines, want exit 2 and one line:\n%s", code, strings.Count(out, "\n"), out)
			}
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("%q lacks %q", out, w)
				}
			}
		})
	}
}
