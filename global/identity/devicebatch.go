package identity

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/atollgg/atoll/global/audit"
	"github.com/atollgg/atoll/internal/db"
	"github.com/jackc/pgx/v5"
	"github.com/prometheus/client_golang/prometheus"
)

// Device logins are the hottest write in the core (every game start). They
// are group-committed: concurrent logins queue, and a worker takes whatever
// has queued and logs the whole batch in with one statement. Under light
// load a batch is one login and adds no wait; under heavy load one round
// trip and one commit serve many logins, which is what lets one database
// keep up.
const (
	// deviceBatchWorkers bounds each batcher's batches in flight. One: the
	// logins that arrive while a batch executes form the next one, so
	// batches grow with load, and per-statement overhead (round trip,
	// commit, WAL flush; the plan is cached) is what limits the database. Measured with wrk, 32
	// connections, on 2 cores: 1 worker averaged 13 logins per batch and
	// 11,800 logins/s, p99 5.4 ms; 2 workers averaged 7 and 8,000/s, p99
	// 22 ms; 6 workers 2.8 per batch.
	deviceBatchWorkers = 1
	// maxDeviceBatch caps one statement's size (arrays of this many rows).
	maxDeviceBatch = 256
	// deviceQueueLen bounds waiting logins; past it, requests wait for room
	// (back-pressure) rather than growing memory.
	deviceQueueLen = 4096
)

// deviceCreateBatchSQL creates a batch of device players: each device, its
// player, its first refresh token and the audit record. A device created
// concurrently (by another batch, or twice in this one) is skipped by ON
// CONFLICT and its player is not created; that requester then logs in. Foreign
// keys are checked at the end of the statement, so devices may come first.
const deviceCreateBatchSQL = `
WITH input AS (
	SELECT * FROM unnest($1::UUID[], $2::TEXT[], $3::TEXT[], $4::TEXT[], $5::UUID[], $6::TIMESTAMPTZ[], $7::TIMESTAMPTZ[])
		AS t(id, username, device_hash, token_hash, family_id, expires_at, family_expires_at)
), dv AS (
	INSERT INTO devices (device_hash, player_id) SELECT device_hash, id FROM input
	ON CONFLICT (device_hash) DO NOTHING RETURNING player_id
), pl AS (
	INSERT INTO players (id, username, username_norm, auth_provider_id, last_login)
	SELECT i.id, i.username, i.username, 'device', now() FROM input i JOIN dv ON dv.player_id = i.id
	RETURNING id
), rt AS (
	INSERT INTO refresh_tokens (token_hash, family_id, player_id, expires_at, family_expires_at)
	SELECT i.token_hash, i.family_id, i.id, i.expires_at, i.family_expires_at FROM input i JOIN pl ON pl.id = i.id
	RETURNING player_id
)
INSERT INTO audit_log (kind, player_id, actor, details)
SELECT $8, player_id, 'player', '{"provider":"device"}' FROM rt
RETURNING player_id::TEXT, player_id::TEXT`

// deviceBatchSQL logs a batch of devices in: find each device's player,
// stamp last_login (at most once a minute per player: a game client that
// reconnects in a loop must not turn into a write per attempt) and store
// every new refresh token. Each device is looked up by a LATERAL subquery
// whose LIMIT keeps it from being flattened into a join: PostgreSQL would
// hash-join a small devices table with a sequential scan per batch
// (measured: a third of the database's time on a freshly seeded load test),
// while this is always one primary-key probe per login, whatever the
// table's size or statistics. The same probe tells whether last_login is
// stale, so the UPDATE touches only players due a stamp; it checks again on
// the row it locks, so a concurrent batch does not stamp twice.
const deviceBatchSQL = `
WITH input AS (
	SELECT * FROM unnest($1::TEXT[], $2::TEXT[], $3::UUID[], $4::TIMESTAMPTZ[], $5::TIMESTAMPTZ[])
		AS t(device_hash, token_hash, family_id, expires_at, family_expires_at)
), p AS (
	SELECT i.token_hash, i.family_id, i.expires_at, i.family_expires_at, f.player_id, f.stale, f.suspended
	FROM input i CROSS JOIN LATERAL (
		SELECT d.player_id, (pl.last_login IS NULL OR pl.last_login < now() - INTERVAL '1 minute') AS stale,
			pl.suspended_at IS NOT NULL AS suspended
		FROM devices d JOIN players pl ON pl.id = d.player_id
		WHERE d.device_hash = i.device_hash AND pl.deleted_at IS NULL
		LIMIT 1
	) f
), stamp AS (
	UPDATE players SET last_login = now()
	WHERE id IN (SELECT player_id FROM p WHERE stale AND NOT suspended) AND (last_login IS NULL OR last_login < now() - INTERVAL '1 minute')
	RETURNING id
), ins AS (
	INSERT INTO refresh_tokens (token_hash, family_id, player_id, expires_at, family_expires_at)
	SELECT token_hash, family_id, player_id, expires_at, family_expires_at FROM p WHERE NOT suspended
	RETURNING token_hash, player_id::TEXT AS player_id
)
SELECT token_hash, player_id FROM ins
UNION ALL SELECT token_hash, '` + suspendedMarker + `' FROM p WHERE suspended`

type deviceReq struct {
	deviceHash string
	sess       pendingSession
	// newID and username are the player to create (creation batches only).
	newID, username string
	done            chan deviceRes // buffered 1: a worker never blocks on a gone requester
}

type deviceRes struct {
	playerID string
	err      error
}

// deviceBatcher group-commits one kind of device statement.
type deviceBatcher struct {
	db    *db.DB
	what  string
	sql   string
	args  func(batch []*deviceReq) []any
	key   func(r *deviceReq) string // matches a result row's first column
	queue chan *deviceReq
	sizes prometheus.Histogram
	wg    sync.WaitGroup
}

func newDeviceBatcher(d *db.DB, reg prometheus.Registerer, what, sql string, args func([]*deviceReq) []any, key func(*deviceReq) string) *deviceBatcher {
	b := &deviceBatcher{db: d, what: what, sql: sql, args: args, key: key, queue: make(chan *deviceReq, deviceQueueLen),
		sizes: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "atoll_identity_device_" + what + "_batch_size",
			Help:    "Device " + what + "s group-committed per database statement.",
			Buckets: prometheus.ExponentialBuckets(1, 2, 9),
		})}
	if reg != nil {
		reg.MustRegister(b.sizes)
	}
	return b
}

// newLoginBatcher logs existing devices in.
func newLoginBatcher(d *db.DB, reg prometheus.Registerer) *deviceBatcher {
	return newDeviceBatcher(d, reg, "login", deviceBatchSQL, func(batch []*deviceReq) []any {
		n := len(batch)
		devs, hashes, fams := make([]string, n), make([]string, n), make([]string, n)
		exps, fexps := make([]time.Time, n), make([]time.Time, n)
		for i, r := range batch {
			devs[i], hashes[i], fams[i] = r.deviceHash, r.sess.hash, r.sess.family
			exps[i], fexps[i] = r.sess.expires, r.sess.familyExpires
		}
		return []any{devs, hashes, fams, exps, fexps}
	}, func(r *deviceReq) string { return r.sess.hash })
}

// newCreateBatcher creates device players.
func newCreateBatcher(d *db.DB, reg prometheus.Registerer) *deviceBatcher {
	return newDeviceBatcher(d, reg, "create", deviceCreateBatchSQL, func(batch []*deviceReq) []any {
		n := len(batch)
		ids, names, devs, hashes, fams := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		exps, fexps := make([]time.Time, n), make([]time.Time, n)
		for i, r := range batch {
			ids[i], names[i], devs[i], hashes[i], fams[i] = r.newID, r.username, r.deviceHash, r.sess.hash, r.sess.family
			exps[i], fexps[i] = r.sess.expires, r.sess.familyExpires
		}
		return []any{ids, names, devs, hashes, fams, exps, fexps, audit.Registered}
	}, func(r *deviceReq) string { return r.newID })
}

// run starts the workers; they stop when ctx ends.
func (b *deviceBatcher) run(ctx context.Context) {
	for range deviceBatchWorkers {
		b.wg.Add(1)
		go func() {
			defer b.wg.Done()
			b.work(ctx)
		}()
	}
}

func (b *deviceBatcher) wait() { b.wg.Wait() }

var errStopping = errors.New("identity service stopping")

// do queues one request and waits for its batch. It returns pgx.ErrNoRows
// when the statement produced no row for it (unknown device on login, a
// device created concurrently on create).
func (b *deviceBatcher) do(ctx context.Context, req *deviceReq) (string, error) {
	req.done = make(chan deviceRes, 1)
	select {
	case b.queue <- req:
	case <-ctx.Done():
		return "", ctx.Err()
	}
	select {
	case res := <-req.done:
		return res.playerID, res.err
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

func (b *deviceBatcher) work(ctx context.Context) {
	batch := make([]*deviceReq, 0, maxDeviceBatch)
	for {
		batch = batch[:0]
		select {
		case <-ctx.Done():
			b.drain()
			return
		case r := <-b.queue:
			batch = append(batch, r)
		}
	fill:
		for len(batch) < maxDeviceBatch {
			select {
			case r := <-b.queue:
				batch = append(batch, r)
			default:
				break fill
			}
		}
		b.exec(ctx, batch)
	}
}

// drain fails whatever is still queued at shutdown, so no request hangs.
func (b *deviceBatcher) drain() {
	for {
		select {
		case r := <-b.queue:
			r.done <- deviceRes{err: errStopping}
		default:
			return
		}
	}
}

func (b *deviceBatcher) exec(ctx context.Context, batch []*deviceReq) {
	b.sizes.Observe(float64(len(batch)))
	args := b.args(batch)
	found := make(map[string]string, len(batch))
	err := b.db.Retry(ctx, func(ctx context.Context) error {
		clear(found)
		rows, err := b.db.Pool.Query(ctx, b.sql, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var k, id string
			if err := rows.Scan(&k, &id); err != nil {
				return err
			}
			found[k] = id
		}
		return rows.Err()
	})
	for _, r := range batch {
		switch id, ok := found[b.key(r)]; {
		case err != nil:
			r.done <- deviceRes{err: fmt.Errorf("device %s batch: %w", b.what, err)}
		case ok:
			r.done <- deviceRes{playerID: id}
		default:
			r.done <- deviceRes{err: pgx.ErrNoRows}
		}
	}
}
