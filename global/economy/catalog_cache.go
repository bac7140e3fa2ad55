package economy

import (
	"context"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/atollgg/atoll/internal/db"
)

// catalogRetry spaces reload attempts while the database is failing, so
// a struggling database is not hit by one reload per request.
const catalogRetry = time.Second

// catalogCache serves the catalog from memory. A read that finds the copy
// older than ttl reloads it in line (one reader at a time; the others keep
// using the old copy), so no background goroutine is needed and a change
// made on another replica shows within ttl. Changes made here swap the copy
// at once.
type catalogCache struct {
	db  *db.DB
	ttl time.Duration
	now func() time.Time
	log *slog.Logger

	snap       atomic.Pointer[catalogSnap]
	refreshing atomic.Bool
}

// reload replaces the copy with the database's current catalog.
func (c *catalogCache) reload(ctx context.Context) error {
	snap, err := loadCatalog(ctx, c.db.Pool, c.now())
	if err != nil {
		return err
	}
	c.snap.Store(snap)
	return nil
}

// get returns the current copy, refreshing it first if it is stale. A failed
// refresh keeps serving the old copy: prices a few seconds stale beat a
// store that is down with the database hiccup.
func (c *catalogCache) get(ctx context.Context) *catalogSnap {
	snap := c.snap.Load()
	if c.now().Sub(snap.loaded) < c.ttl || !c.refreshing.CompareAndSwap(false, true) {
		return snap
	}
	defer c.refreshing.Store(false)
	if err := c.reload(ctx); err != nil {
		c.log.WarnContext(ctx, "catalog refresh failed; serving the previous copy", "err", err)
		// Try again after catalogRetry rather than on every request.
		again := *snap
		again.loaded = c.now().Add(catalogRetry - c.ttl)
		c.snap.Store(&again)
		return snap
	}
	return c.snap.Load()
}
