package db

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/cockroachdb/cockroach-go/v2/crdb/crdbpgxv5"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Retry policy for PostgreSQL. Serialization failures under contention clear
// within a few attempts; 20 with capped jittered backoff rides out a burst of
// 64 writers on one row without turning into an unbounded loop.
const (
	MaxTxAttempts   = 20
	retryBaseDelay  = time.Millisecond
	retryMaxDelay   = 100 * time.Millisecond
	sqlstateSerial  = "40001" // serialization_failure
	sqlstateDeadlck = "40P01" // deadlock_detected
)

// ErrTooManyRetries wraps the last error after MaxTxAttempts attempts.
var ErrTooManyRetries = errors.New("transaction retries exhausted")

// TxFunc is the body of a transaction. It may run more than once, so it must
// not have effects outside tx (or must make them idempotent).
type TxFunc func(ctx context.Context, tx pgx.Tx) error

// RunTx runs fn in a SERIALIZABLE transaction and commits it, retrying the
// whole transaction on serialization failures. On CockroachDB it uses
// cockroach-go's crdbpgx.ExecuteTx (savepoint-based retries). On PostgreSQL it
// re-runs the transaction on 40001/40P01 and always checks the COMMIT error:
// crdb.ExecuteTx there returns nil when COMMIT fails and its retries never
// succeed.
func (db *DB) RunTx(ctx context.Context, fn TxFunc) error {
	if db.Dialect == Cockroach {
		return crdbpgx.ExecuteTx(ctx, db.Pool, pgx.TxOptions{IsoLevel: pgx.Serializable}, func(tx pgx.Tx) error {
			return fn(ctx, tx)
		})
	}
	var err error
	for attempt := 1; attempt <= MaxTxAttempts; attempt++ {
		err = db.runOnce(ctx, fn)
		if err == nil || !IsRetryable(err) {
			return err
		}
		if werr := sleepBackoff(ctx, attempt); werr != nil {
			return fmt.Errorf("%w (last error: %v)", werr, err)
		}
	}
	return fmt.Errorf("%w: %w", ErrTooManyRetries, err)
}

func (db *DB) runOnce(ctx context.Context, fn TxFunc) (err error) {
	tx, err := db.Pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.Serializable})
	if err != nil {
		return fmt.Errorf("begin transaction: %w", err)
	}
	defer func() {
		if err != nil {
			// Rollback on a context that outlives a cancelled ctx, so the
			// connection goes back to the pool clean.
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
			_ = tx.Rollback(rctx)
			cancel()
		}
	}()
	if err = fn(ctx, tx); err != nil {
		return err
	}
	if err = tx.Commit(ctx); err != nil {
		return fmt.Errorf("commit transaction: %w", err)
	}
	return nil
}

// IsRetryable reports whether err is a serialization failure or deadlock that
// a fresh attempt of the whole transaction can clear.
func IsRetryable(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code == sqlstateSerial || pe.Code == sqlstateDeadlck
	}
	return false
}

// IsUniqueViolation reports whether err is a unique-constraint violation,
// optionally on the named constraint.
func IsUniqueViolation(err error, constraint string) bool {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Code != "23505" {
		return false
	}
	return constraint == "" || pe.ConstraintName == constraint
}

func sleepBackoff(ctx context.Context, attempt int) error {
	d := retryBaseDelay << min(attempt, 10)
	if d > retryMaxDelay {
		d = retryMaxDelay
	}
	d = d/2 + rand.N(d/2+1)
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Retry runs fn, a single statement in its own implicit transaction, again on
// serialization failures. Both engines run a lone statement atomically, so
// hot paths can skip BEGIN/COMMIT round trips.
func (db *DB) Retry(ctx context.Context, fn func(ctx context.Context) error) error {
	var err error
	for attempt := 1; attempt <= MaxTxAttempts; attempt++ {
		if err = fn(ctx); err == nil || !IsRetryable(err) {
			return err
		}
		if werr := sleepBackoff(ctx, attempt); werr != nil {
			return fmt.Errorf("%w (last error: %v)", werr, err)
		}
	}
	return fmt.Errorf("%w: %w", ErrTooManyRetries, err)
}
