// Package db owns Atoll's access to the global database: the pgx pool, the
// dialect (CockroachDB in production, PostgreSQL in tests), the
// dialect-aware transaction runner and embedded migrations.
package db
