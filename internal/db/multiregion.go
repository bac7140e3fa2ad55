package db

import (
	"context"
	"fmt"
	"regexp"

	"github.com/jackc/pgx/v5"
)

// MultiRegion describes CockroachDB's multi-region layout for the global
// database: players live in their home region (REGIONAL BY ROW), read-mostly
// catalogs are readable everywhere at local latency (GLOBAL).
type MultiRegion struct {
	Database      string
	PrimaryRegion string
	// Regions are the other database regions; may be empty.
	Regions       []string
	RegionalByRow []string
	Global        []string
}

var regionName = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)
var tableName = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,62}$`)

// Statements returns the DDL for m, safe to re-run.
func (m MultiRegion) Statements() ([]string, error) {
	if m.PrimaryRegion == "" {
		return nil, fmt.Errorf("multi-region: primary region is required")
	}
	if m.Database == "" {
		return nil, fmt.Errorf("multi-region: database name is required")
	}
	for _, r := range append([]string{m.PrimaryRegion}, m.Regions...) {
		if !regionName.MatchString(r) {
			return nil, fmt.Errorf("multi-region: invalid region name %q", r)
		}
	}
	for _, t := range append(append([]string{}, m.RegionalByRow...), m.Global...) {
		if !tableName.MatchString(t) {
			return nil, fmt.Errorf("multi-region: invalid table name %q", t)
		}
	}
	id := func(s string) string { return pgx.Identifier{s}.Sanitize() }
	dbid := id(m.Database)
	out := []string{fmt.Sprintf("ALTER DATABASE %s SET PRIMARY REGION %s", dbid, id(m.PrimaryRegion))}
	seen := map[string]bool{m.PrimaryRegion: true}
	for _, r := range m.Regions {
		if seen[r] {
			continue
		}
		seen[r] = true
		out = append(out, fmt.Sprintf("ALTER DATABASE %s ADD REGION IF NOT EXISTS %s", dbid, id(r)))
	}
	for _, t := range m.RegionalByRow {
		out = append(out, fmt.Sprintf("ALTER TABLE %s SET LOCALITY REGIONAL BY ROW", id(t)))
	}
	for _, t := range m.Global {
		out = append(out, fmt.Sprintf("ALTER TABLE %s SET LOCALITY GLOBAL", id(t)))
	}
	return out, nil
}

// ApplyMultiRegion applies m on CockroachDB. On PostgreSQL, which has no such
// DDL, it does nothing and reports false.
func (db *DB) ApplyMultiRegion(ctx context.Context, m MultiRegion) (bool, error) {
	stmts, err := m.Statements()
	if err != nil {
		return false, err
	}
	if db.Dialect != Cockroach {
		return false, nil
	}
	for _, s := range stmts {
		if _, err := db.Pool.Exec(ctx, s); err != nil {
			return false, fmt.Errorf("multi-region DDL %q: %w", s, err)
		}
	}
	return true, nil
}
