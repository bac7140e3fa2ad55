package db

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// Dialect is the SQL engine behind a pool.
type Dialect int

const (
	// Postgres is PostgreSQL, what tests and small installs run.
	Postgres Dialect = iota
	// Cockroach is CockroachDB, the production target.
	Cockroach
)

func (d Dialect) String() string {
	if d == Cockroach {
		return "cockroachdb"
	}
	return "postgresql"
}

// Connection defaults.
const (
	// DefaultMaxConns suits a 2–4 core service next to its database; more
	// connections than cores mostly adds contention on the server.
	DefaultMaxConns = 32
	// ConnectTimeout bounds the first connection so a wrong URL fails start-up
	// quickly with a clear error instead of hanging.
	ConnectTimeout = 10 * time.Second
)

// Config configures Open.
type Config struct {
	URL string
	// MaxConns is the pool size; zero means DefaultMaxConns.
	MaxConns int32
}

// DB is a pool plus the dialect detected when it connected.
type DB struct {
	Pool    *pgxpool.Pool
	Dialect Dialect
}

// Open connects, pings and detects the dialect.
func Open(ctx context.Context, cfg Config) (*DB, error) {
	pc, err := pgxpool.ParseConfig(cfg.URL)
	if err != nil {
		return nil, fmt.Errorf("parse database url: %w", redact(err))
	}
	pc.MaxConns = cfg.MaxConns
	if pc.MaxConns <= 0 {
		pc.MaxConns = DefaultMaxConns
	}
	if pc.ConnConfig.ConnectTimeout == 0 {
		pc.ConnConfig.ConnectTimeout = ConnectTimeout
	}
	pool, err := pgxpool.NewWithConfig(ctx, pc)
	if err != nil {
		return nil, fmt.Errorf("open database pool: %w", err)
	}
	cctx, cancel := context.WithTimeout(ctx, ConnectTimeout)
	defer cancel()
	d, err := detect(cctx, pool)
	if err != nil {
		pool.Close()
		return nil, err
	}
	return &DB{Pool: pool, Dialect: d}, nil
}

// Close closes the pool.
func (db *DB) Close() { db.Pool.Close() }

// Ping checks the database answers, for /readyz.
func (db *DB) Ping(ctx context.Context) error { return db.Pool.Ping(ctx) }

func detect(ctx context.Context, pool *pgxpool.Pool) (Dialect, error) {
	var v string
	if err := pool.QueryRow(ctx, "SELECT version()").Scan(&v); err != nil {
		return 0, fmt.Errorf("connect to database: %w", err)
	}
	if strings.Contains(v, "CockroachDB") {
		return Cockroach, nil
	}
	return Postgres, nil
}

// redact keeps a password in a malformed URL out of error messages and logs.
func redact(err error) error {
	return fmt.Errorf("%s", strings.SplitN(err.Error(), "://", 2)[0]+"://…: invalid")
}
