package audit

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/atollgg/atoll/internal/db"
)

// Retention defaults.
const (
	// DefaultRetention is how long audit rows are kept: long enough to
	// investigate an incident reported months later, bounded so the table
	// does not grow forever.
	DefaultRetention = 180 * 24 * time.Hour
	// DefaultPruneInterval is how often old rows are deleted: hourly keeps
	// each run's batch small.
	DefaultPruneInterval = time.Hour
	// pruneBatch bounds the rows one DELETE removes, so a first prune of a
	// large backlog never holds one huge transaction.
	pruneBatch = 5000
)

// Prune deletes audit rows older than before, in batches, and returns how
// many it deleted.
func Prune(ctx context.Context, d *db.DB, before time.Time) (int64, error) {
	var total int64
	for {
		tag, err := d.Pool.Exec(ctx, `DELETE FROM audit_log WHERE id IN (SELECT id FROM audit_log WHERE at < $1 ORDER BY at LIMIT $2)`, before, pruneBatch)
		if err != nil {
			return total, fmt.Errorf("prune audit log: %w", err)
		}
		total += tag.RowsAffected()
		if tag.RowsAffected() < pruneBatch {
			return total, nil
		}
	}
}

// RunRetention prunes rows older than retention every interval until ctx
// ends, starting with one prune at once. A negative retention keeps every
// row; zero retention or interval mean the defaults.
func RunRetention(ctx context.Context, d *db.DB, retention, interval time.Duration, log *slog.Logger) {
	if retention < 0 {
		return
	}
	if retention == 0 {
		retention = DefaultRetention
	}
	if interval <= 0 {
		interval = DefaultPruneInterval
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		n, err := Prune(ctx, d, time.Now().Add(-retention))
		switch {
		case err != nil && ctx.Err() == nil:
			log.Error("prune audit log", "err", err)
		case n > 0:
			log.Info("pruned audit log", "rows", n, "retention", retention)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
