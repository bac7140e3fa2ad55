// Package dbtest gives each test its own fresh database on a real server: a
// throwaway PostgreSQL started once per test binary, or the server named by
// ATOLL_TEST_DATABASE_URL (PostgreSQL or CockroachDB).
package dbtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/atollgg/atoll/internal/db"
	"github.com/atollgg/atoll/internal/pglocal"
	"github.com/jackc/pgx/v5"
)

// EnvURL names an existing server to test against instead of a throwaway one.
const EnvURL = "ATOLL_TEST_DATABASE_URL"

// setupTimeout bounds creating one test database.
const setupTimeout = 90 * time.Second

var (
	mu      sync.Mutex // guards following
	server  *pglocal.Server
	baseURL string
	initErr error
)

// Main runs the tests of a package and stops the shared server afterwards.
// Use it from TestMain: func TestMain(m *testing.M) { dbtest.Main(m) }.
func Main(m *testing.M) {
	code := m.Run()
	mu.Lock()
	if server != nil {
		_ = server.Stop()
		server = nil
	}
	mu.Unlock()
	os.Exit(code)
}

func base(ctx context.Context) (string, error) {
	mu.Lock()
	defer mu.Unlock()
	if baseURL != "" || initErr != nil {
		return baseURL, initErr
	}
	if u := os.Getenv(EnvURL); u != "" {
		baseURL = u
		return baseURL, nil
	}
	server, initErr = pglocal.Start(ctx, pglocal.Options{})
	if initErr == nil {
		baseURL = server.URL
	}
	return baseURL, initErr
}

// URL creates a fresh, empty database for t and returns its URL. The
// database is dropped when t ends.
func URL(t testing.TB) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
	defer cancel()
	b, err := base(ctx)
	if err != nil {
		t.Fatalf("dbtest: %v", err)
	}
	var rb [6]byte
	_, _ = rand.Read(rb[:])
	name := "atoll_test_" + hex.EncodeToString(rb[:])
	admin, err := pgx.Connect(ctx, b)
	if err != nil {
		t.Fatalf("dbtest: connect %s: %v", EnvURL, err)
	}
	defer admin.Close(ctx)
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		t.Fatalf("dbtest: create database: %v", err)
	}
	u, err := url.Parse(b)
	if err != nil {
		t.Fatalf("dbtest: parse base url: %v", err)
	}
	u.Path = "/" + name
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
		defer cancel()
		c, err := pgx.Connect(ctx, b)
		if err != nil {
			return
		}
		defer c.Close(ctx)
		// WITH (FORCE) is PostgreSQL's; CockroachDB spells it CASCADE.
		if _, err := c.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
			_, _ = c.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" CASCADE")
		}
	})
	return u.String()
}

// Open returns a pool on a fresh database for t, closed when t ends.
func Open(t testing.TB) *db.DB {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
	defer cancel()
	d, err := db.Open(ctx, db.Config{URL: URL(t)})
	if err != nil {
		t.Fatalf("dbtest: %v", err)
	}
	t.Cleanup(d.Close)
	return d
}

// Describe says which server the suite runs against, for test logs.
func Describe() string {
	if u := os.Getenv(EnvURL); u != "" {
		return fmt.Sprintf("server from %s", EnvURL)
	}
	return "throwaway PostgreSQL"
}
