package telemetry

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/atollgg/atoll/internal/db"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// partitionPrefix names PostgreSQL's day partitions:
// telemetry_events_p20261206 holds [2026-12-06, 2026-12-07) UTC.
const partitionPrefix = "telemetry_events_p"

// partitionDay is the layout of a partition name's day.
const partitionDay = "20060102"

// ensurePartitions creates the day partitions rows fall into, once per
// day per process. Outside the write transaction: DDL takes a lock the
// writers of other days do not need to wait on.
func (s *Sink) ensurePartitions(ctx context.Context, rows []row) error {
	if s.cfg.DB.Dialect != db.Postgres {
		return nil
	}
	var missing []time.Time
	s.mu.Lock()
	seen := map[string]bool{}
	for i := range rows {
		day := rows[i].ts.UTC().Truncate(24 * time.Hour)
		name := partitionPrefix + day.Format(partitionDay)
		if !s.partitions[name] && !seen[name] {
			seen[name] = true
			missing = append(missing, day)
		}
	}
	s.mu.Unlock()
	for _, day := range missing {
		name := partitionPrefix + day.Format(partitionDay)
		sql := fmt.Sprintf(`CREATE TABLE IF NOT EXISTS %s PARTITION OF telemetry_events FOR VALUES FROM ('%s') TO ('%s')`,
			pgx.Identifier{name}.Sanitize(), day.Format(time.RFC3339), day.Add(24*time.Hour).Format(time.RFC3339))
		if _, err := s.cfg.DB.Pool.Exec(ctx, sql); err != nil && !isDuplicateTable(err) {
			return fmt.Errorf("create partition %s: %w", name, err)
		}
		s.mu.Lock()
		s.partitions[name] = true
		s.mu.Unlock()
	}
	return nil
}

func (s *Sink) forgetPartitions() {
	s.mu.Lock()
	s.partitions = map[string]bool{}
	s.mu.Unlock()
}

// isDuplicateTable matches a concurrent CREATE of the same partition
// (duplicate_table, or the row type's duplicate in pg_type).
func isDuplicateTable(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == "42P07" || pe.Code == "23505" || pe.Code == "42710")
}

// retentionChunk bounds one DELETE on CockroachDB: big deletes make big
// transactions, which CockroachDB retries and limits.
const retentionChunk = 10000

// ExpireBefore deletes events older than cutoff: whole day partitions that
// end at or before it on PostgreSQL, rows in chunks on CockroachDB; and
// anti-cheat counters of windows before it. It returns the partitions
// dropped (PostgreSQL) or rows deleted (CockroachDB).
func (s *Sink) ExpireBefore(ctx context.Context, cutoff time.Time) (int64, error) {
	var n int64
	if s.cfg.DB.Dialect == db.Postgres {
		rows, err := s.cfg.DB.Pool.Query(ctx, `SELECT c.relname FROM pg_inherits i
			JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent
			WHERE p.relname = 'telemetry_events'`)
		if err != nil {
			return 0, fmt.Errorf("list partitions: %w", err)
		}
		names, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return 0, fmt.Errorf("list partitions: %w", err)
		}
		for _, name := range names {
			day, err := time.Parse(partitionDay, strings.TrimPrefix(name, partitionPrefix))
			if err != nil || !strings.HasPrefix(name, partitionPrefix) || day.Add(24*time.Hour).After(cutoff) {
				continue
			}
			if _, err := s.cfg.DB.Pool.Exec(ctx, `DROP TABLE IF EXISTS `+pgx.Identifier{name}.Sanitize()); err != nil {
				return n, fmt.Errorf("drop partition %s: %w", name, err)
			}
			s.mu.Lock()
			delete(s.partitions, name)
			s.mu.Unlock()
			n++
		}
	} else {
		for {
			tag, err := s.cfg.DB.Pool.Exec(ctx, `DELETE FROM telemetry_events WHERE ts < $1 LIMIT $2`, cutoff, retentionChunk)
			if err != nil {
				return n, fmt.Errorf("expire events: %w", err)
			}
			n += tag.RowsAffected()
			if tag.RowsAffected() < retentionChunk {
				break
			}
		}
	}
	// Counters live as long as events, and at least as long as they count
	// towards a suspension.
	counters := min(cutoff.UnixNano(), s.cfg.Now().Add(-s.cfg.Rules.SuspendWindow).UnixNano())
	if _, err := s.cfg.DB.Pool.Exec(ctx, `DELETE FROM anticheat_counters WHERE window_start < $1`, time.Unix(0, counters)); err != nil {
		return n, fmt.Errorf("expire anti-cheat counters: %w", err)
	}
	return n, nil
}

// retentionLoop runs ExpireBefore every RetentionInterval until ctx ends.
func (s *Sink) retentionLoop(ctx context.Context) {
	t := time.NewTicker(s.cfg.RetentionInterval)
	defer t.Stop()
	for {
		n, err := s.ExpireBefore(ctx, s.cfg.Now().Add(-s.cfg.Retention))
		if err != nil && ctx.Err() == nil {
			s.log.Warn("telemetry retention", "err", err)
		} else if n > 0 {
			s.metrics.expired.Add(float64(n))
			s.log.Info("telemetry retention", "expired", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
