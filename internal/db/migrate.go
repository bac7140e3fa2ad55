package db

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// Migration lock lease. Schema changes on CockroachDB can take minutes on big
// tables; a migrator that crashes holding the lease blocks the others for at
// most this long.
const (
	migrationLease    = 5 * time.Minute
	migrationLockPoll = 100 * time.Millisecond
)

// Migration is one ordered schema change of a component.
type Migration struct {
	Version int
	Name    string
	SQL     string
	// Only, when non-empty, restricts the migration to one dialect
	// ("crdb" or "pg", from a file named NNNN_name.crdb.sql or .pg.sql).
	Only string
}

var migrationFile = regexp.MustCompile(`^(\d{4})_([a-z0-9_]+?)(\.crdb|\.pg)?\.sql$`)

// LoadMigrations reads NNNN_name.sql files from fsys in version order.
func LoadMigrations(fsys fs.FS) ([]Migration, error) {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, fmt.Errorf("read migrations: %w", err)
	}
	var ms []Migration
	seen := map[int]string{}
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		m := migrationFile.FindStringSubmatch(e.Name())
		if m == nil {
			return nil, fmt.Errorf("migration file %q: want NNNN_name.sql", e.Name())
		}
		v, _ := strconv.Atoi(m[1])
		if prev, dup := seen[v]; dup {
			return nil, fmt.Errorf("migrations %q and %q share version %d", prev, e.Name(), v)
		}
		seen[v] = e.Name()
		body, err := fs.ReadFile(fsys, path.Clean(e.Name()))
		if err != nil {
			return nil, fmt.Errorf("read migration %s: %w", e.Name(), err)
		}
		ms = append(ms, Migration{Version: v, Name: m[2], SQL: string(body), Only: strings.TrimPrefix(m[3], ".")})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].Version < ms[j].Version })
	return ms, nil
}

func (m Migration) appliesTo(d Dialect) bool {
	switch m.Only {
	case "crdb":
		return d == Cockroach
	case "pg":
		return d == Postgres
	}
	return true
}

// Migrate applies component's pending migrations from fsys. Concurrent
// callers (several processes starting at once) serialise on a lease row, so
// each migration is applied exactly once. It returns the versions applied.
func (db *DB) Migrate(ctx context.Context, component string, fsys fs.FS) ([]int, error) {
	ms, err := LoadMigrations(fsys)
	if err != nil {
		return nil, err
	}
	if err := db.ensureMigrationTables(ctx); err != nil {
		return nil, err
	}
	release, err := db.acquireMigrationLock(ctx)
	if err != nil {
		return nil, err
	}
	defer release()

	applied := map[int]bool{}
	rows, err := db.Pool.Query(ctx, `SELECT version FROM atoll_schema_migrations WHERE component = $1`, component)
	if err != nil {
		return nil, fmt.Errorf("read applied migrations: %w", err)
	}
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			rows.Close()
			return nil, fmt.Errorf("read applied migrations: %w", err)
		}
		applied[v] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read applied migrations: %w", err)
	}

	var done []int
	for _, m := range ms {
		if applied[m.Version] || !m.appliesTo(db.Dialect) {
			continue
		}
		if err := db.applyMigration(ctx, component, m); err != nil {
			return done, err
		}
		done = append(done, m.Version)
	}
	return done, nil
}

func (db *DB) applyMigration(ctx context.Context, component string, m Migration) error {
	if db.Dialect == Postgres {
		// PostgreSQL DDL is transactional: the change and its record commit together.
		err := db.RunTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, m.SQL); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, `INSERT INTO atoll_schema_migrations (component, version, name) VALUES ($1, $2, $3)`, component, m.Version, m.Name)
			return err
		})
		if err != nil {
			return fmt.Errorf("apply migration %s %04d_%s: %w", component, m.Version, m.Name, err)
		}
		return nil
	}
	// CockroachDB runs schema changes asynchronously and advises against
	// mixing them with writes in one transaction: apply, then record.
	// Migrations are written to be re-runnable (IF NOT EXISTS) for the window
	// in between.
	if _, err := db.Pool.Exec(ctx, m.SQL); err != nil {
		return fmt.Errorf("apply migration %s %04d_%s: %w", component, m.Version, m.Name, err)
	}
	if _, err := db.Pool.Exec(ctx, `INSERT INTO atoll_schema_migrations (component, version, name) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`, component, m.Version, m.Name); err != nil {
		return fmt.Errorf("record migration %s %04d: %w", component, m.Version, err)
	}
	return nil
}

func (db *DB) ensureMigrationTables(ctx context.Context) error {
	stmts := []string{
		`CREATE TABLE IF NOT EXISTS atoll_schema_migrations (
			component TEXT NOT NULL,
			version INT NOT NULL,
			name TEXT NOT NULL,
			applied_at TIMESTAMPTZ NOT NULL DEFAULT now(),
			PRIMARY KEY (component, version))`,
		`CREATE TABLE IF NOT EXISTS atoll_migration_lock (
			id INT PRIMARY KEY,
			holder TEXT NOT NULL,
			expires_at TIMESTAMPTZ NOT NULL)`,
	}
	for _, s := range stmts {
		for attempt := 0; ; attempt++ {
			_, err := db.Pool.Exec(ctx, s)
			if err == nil {
				break
			}
			// Two processes racing CREATE TABLE IF NOT EXISTS on PostgreSQL can
			// collide in the catalog; the loser retries and finds the table.
			if attempt < 3 && (IsUniqueViolation(err, "") || isDuplicateTable(err)) {
				continue
			}
			return fmt.Errorf("create migration tables: %w", err)
		}
	}
	return nil
}

// isDuplicateTable matches duplicate_table (42P07) and duplicate_object
// (42710, the table's row type colliding in pg_type).
func isDuplicateTable(err error) bool {
	var pe interface{ SQLState() string }
	return errors.As(err, &pe) && (pe.SQLState() == "42P07" || pe.SQLState() == "42710")
}

// acquireMigrationLock takes the lease row, polling until it is free or ctx
// ends. A lease row rather than pg_advisory_lock because CockroachDB has no
// advisory locks, and one mechanism means the tested path is the production one.
func (db *DB) acquireMigrationLock(ctx context.Context) (func(), error) {
	var b [8]byte
	_, _ = rand.Read(b[:])
	holder := hex.EncodeToString(b[:])
	t := time.NewTicker(migrationLockPoll)
	defer t.Stop()
	for {
		var got string
		err := db.Pool.QueryRow(ctx, `
			INSERT INTO atoll_migration_lock (id, holder, expires_at) VALUES (1, $1, now() + $2::INTERVAL)
			ON CONFLICT (id) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
			WHERE atoll_migration_lock.expires_at < now()
			RETURNING holder`, holder, migrationLease.String()).Scan(&got)
		switch {
		case err == nil && got == holder:
			return func() {
				rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
				defer cancel()
				_, _ = db.Pool.Exec(rctx, `DELETE FROM atoll_migration_lock WHERE id = 1 AND holder = $1`, holder)
			}, nil
		case err != nil && !errors.Is(err, pgx.ErrNoRows) && !IsRetryable(err) && !IsUniqueViolation(err, ""):
			return nil, fmt.Errorf("acquire migration lock: %w", err)
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("acquire migration lock: %w", ctx.Err())
		case <-t.C:
		}
	}
}
