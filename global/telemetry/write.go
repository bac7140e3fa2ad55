package telemetry

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/atollgg/atoll/contract"
	"github.com/atollgg/atoll/internal/db"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// columns of telemetry_events, in the order rows are copied.
var columns = []string{"ts", "event_id", "cell_id", "sender", "sender_id", "player_id", "session_id", "event_type", "payload", "received_at"}

// Staging on PostgreSQL, when a COPY straight into the log hit a
// duplicate: COPY into a session-local temporary table (no constraint to
// fail the COPY), then one INSERT ... ON CONFLICT DO NOTHING moves what is
// new into the log. ON COMMIT DELETE ROWS empties it at every
// commit, and a rolled-back transaction (RunTx's retry) leaves it empty too.
const (
	createStageSQL = `CREATE TEMP TABLE IF NOT EXISTS telemetry_stage (LIKE telemetry_events INCLUDING DEFAULTS) ON COMMIT DELETE ROWS`
	moveStageSQL   = `INSERT INTO telemetry_events SELECT * FROM telemetry_stage ON CONFLICT DO NOTHING`
	// insertArraysSQL inserts rows given as column arrays, returning the
	// ids actually inserted: CockroachDB's path (its temporary tables are
	// experimental) and, on both, the path of rule-relevant events, whose
	// newness the rules need.
	insertArraysSQL = `INSERT INTO telemetry_events (ts, event_id, cell_id, sender, sender_id, player_id, session_id, event_type, payload, received_at)
SELECT * FROM unnest($1::TIMESTAMPTZ[], $2::UUID[], $3::TEXT[], $4::TEXT[], $5::TEXT[], $6::TEXT[], $7::TEXT[], $8::TEXT[], $9::JSONB[], $10::TIMESTAMPTZ[])
ON CONFLICT DO NOTHING RETURNING event_id`
)

// store writes rows exactly once, with the rules' effects, in one
// transaction.
func (s *Sink) store(ctx context.Context, rows []row) error {
	if len(rows) == 0 {
		return nil
	}
	if err := s.ensurePartitions(ctx, rows); err != nil {
		return err
	}
	// The rules need to know which of their events are new (a redelivered
	// violation must not count twice); those are few and go through a
	// RETURNING insert, the bulk through COPY.
	var bulk, ruled []row
	for i := range rows {
		if s.ruled(&rows[i]) {
			ruled = append(ruled, rows[i])
		} else {
			bulk = append(bulk, rows[i])
		}
	}
	var inserted int64
	err := s.cfg.DB.RunTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		inserted = 0
		n, err := s.insertBulk(ctx, tx, bulk)
		if err != nil {
			return err
		}
		fresh, err := insertReturning(ctx, tx, ruled)
		if err != nil {
			return err
		}
		inserted = n + int64(len(fresh))
		return s.applyRules(ctx, tx, fresh)
	})
	if err != nil {
		if isNoPartition(err) {
			s.forgetPartitions() // retention dropped one under us
		}
		return fmt.Errorf("store %d telemetry events: %w", len(rows), err)
	}
	s.metrics.events.WithLabelValues("inserted").Add(float64(inserted))
	s.metrics.events.WithLabelValues("duplicate").Add(float64(int64(len(rows)) - inserted))
	return nil
}

func (s *Sink) insertBulk(ctx context.Context, tx pgx.Tx, rows []row) (int64, error) {
	if len(rows) == 0 {
		return 0, nil
	}
	if s.cfg.DB.Dialect == db.Cockroach {
		ids, err := insertReturning(ctx, tx, rows)
		return int64(len(ids)), err
	}
	// The common case has no duplicate: COPY straight into the log, in a
	// savepoint. A redelivered batch fails it on the primary key; then the
	// savepoint rolls back and the staging path skips what is stored.
	sp, err := tx.Begin(ctx)
	if err != nil {
		return 0, fmt.Errorf("savepoint: %w", err)
	}
	n, err := sp.CopyFrom(ctx, pgx.Identifier{"telemetry_events"}, columns, &copySource{rows: rows, i: -1})
	if err == nil {
		if err := sp.Commit(ctx); err != nil {
			return 0, fmt.Errorf("release savepoint: %w", err)
		}
		return n, nil
	}
	if rerr := sp.Rollback(ctx); rerr != nil {
		return 0, fmt.Errorf("roll back to savepoint: %w", rerr)
	}
	if !db.IsUniqueViolation(err, "") {
		return 0, fmt.Errorf("copy into the log: %w", err)
	}
	s.metrics.copyConflicts.Inc()
	if _, err := tx.Exec(ctx, createStageSQL); err != nil {
		return 0, fmt.Errorf("staging table: %w", err)
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"telemetry_stage"}, columns, &copySource{rows: rows, i: -1}); err != nil {
		return 0, fmt.Errorf("copy into staging: %w", err)
	}
	tag, err := tx.Exec(ctx, moveStageSQL)
	if err != nil {
		return 0, fmt.Errorf("move staging into the log: %w", err)
	}
	return tag.RowsAffected(), nil
}

// insertReturning inserts rows and returns those that were new.
func insertReturning(ctx context.Context, tx pgx.Tx, rows []row) ([]row, error) {
	if len(rows) == 0 {
		return nil, nil
	}
	n := len(rows)
	ts, rec := make([]time.Time, n), make([]time.Time, n)
	ids := make([][16]byte, n)
	cells, senders, senderIDs, players, sessions, types := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	payloads := make([]*string, n)
	for i, r := range rows {
		ts[i], rec[i], ids[i] = r.ts, r.received, r.id
		cells[i], senders[i], senderIDs[i], players[i], sessions[i], types[i] = r.cell, r.sender, r.senderID, r.player, r.session, r.eventType
		if r.payload != nil {
			p := string(r.payload)
			payloads[i] = &p
		}
	}
	res, err := tx.Query(ctx, insertArraysSQL, ts, ids, cells, senders, senderIDs, players, sessions, types, payloads, rec)
	if err != nil {
		return nil, fmt.Errorf("insert events: %w", err)
	}
	fresh := map[[16]byte]bool{}
	for res.Next() {
		var id [16]byte
		if err := res.Scan(&id); err != nil {
			res.Close()
			return nil, fmt.Errorf("insert events: %w", err)
		}
		fresh[id] = true
	}
	res.Close()
	if err := res.Err(); err != nil {
		return nil, fmt.Errorf("insert events: %w", err)
	}
	out := make([]row, 0, len(fresh))
	for _, r := range rows {
		if fresh[r.id] {
			out = append(out, r)
			delete(fresh, r.id) // the same id twice in one batch counts once
		}
	}
	return out, nil
}

// copySource streams rows to COPY without building a [][]any.
type copySource struct {
	rows []row
	i    int
	vals [10]any
}

func (c *copySource) Next() bool { c.i++; return c.i < len(c.rows) }
func (c *copySource) Err() error { return nil }
func (c *copySource) Values() ([]any, error) {
	r := &c.rows[c.i]
	// A [16]byte, not the uuid.UUID: pgx would take its driver.Valuer path
	// (format to a string, parse it back) for every row. A payload is
	// passed as the raw JSON bytes it is; nil is NULL.
	var payload any
	if r.payload != nil {
		payload = []byte(r.payload)
	}
	c.vals = [10]any{r.ts, [16]byte(r.id), r.cell, r.sender, r.senderID, r.player, r.session, r.eventType, payload, r.received}
	return c.vals[:], nil
}

// ruled reports whether r feeds an anti-cheat rule: a game server's event
// of a rule's type about a player.
func (s *Sink) ruled(r *row) bool {
	if r.sender != contract.SenderServer || r.player == "" {
		return false
	}
	switch r.eventType {
	case contract.TelemetryViolation:
		return s.cfg.Rules.MaxViolations > 0
	case contract.TelemetryKick:
		return s.cfg.Rules.FlagKicks
	case contract.TelemetryScore:
		return s.cfg.Rules.MaxScore > 0
	}
	return false
}

// isNoPartition matches "no partition of relation found for row" (23514 on
// a partitioned table).
func isNoPartition(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23514"
}
