package identity

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/atollgg/atoll/internal/db"
	"github.com/jackc/pgx/v5"
	"github.com/prometheus/client_golang/prometheus"
)

// Device logins are the hottest write in the core (every game start). They
// are group-committed: concurrent logins queue, and a small set of workers
// each takes whatever has queued and logs the whole batch in with one
// statement. Under light load a batch is one login and adds no wait; under
// heavy load one round trip and one commit serve many logins, which is what
// lets one database keep up.
const (
	// deviceLoginWorkers bounds batches in flight. Two keep one batch
	// executing while the next one fills; more workers only make batches
	// smaller, and per-statement overhead is what limits the database
	// (measured: 6 workers averaged 2.8 logins per batch and ran at 60% of
	// the throughput of 2 workers).
	deviceLoginWorkers = 2
	// maxLoginBatch caps one statement's size (arrays of this many rows).
	maxLoginBatch = 256
	// loginQueueLen bounds waiting logins; past it, requests wait for room
	// (back-pressure) rather than growing memory.
	loginQueueLen = 4096
)

// deviceBatchSQL logs a batch of devices in: find each device's player,
// stamp last_login (at most once a minute per player: a game client that
// reconnects in a loop must not turn into a write per attempt) and store
// every new refresh token.
const deviceBatchSQL = `
WITH input AS (
	SELECT * FROM unnest($1::TEXT[], $2::TEXT[], $3::UUID[], $4::TIMESTAMPTZ[], $5::TIMESTAMPTZ[])
		AS t(device_hash, token_hash, family_id, expires_at, family_expires_at)
), p AS (
	SELECT i.token_hash, i.family_id, i.expires_at, i.family_expires_at, d.player_id
	FROM input i JOIN devices d ON d.device_hash = i.device_hash JOIN players pl ON pl.id = d.player_id
	WHERE pl.deleted_at IS NULL
), stamp AS (
	UPDATE players SET last_login = now()
	WHERE id IN (SELECT player_id FROM p) AND (last_login IS NULL OR last_login < now() - INTERVAL '1 minute')
	RETURNING id
)
INSERT INTO refresh_tokens (token_hash, family_id, player_id, expires_at, family_expires_at)
SELECT token_hash, family_id, player_id, expires_at, family_expires_at FROM p
RETURNING token_hash, player_id::TEXT`

type loginReq struct {
	deviceHash string
	sess       pendingSession
	done       chan loginRes // buffered 1: a worker never blocks on a gone requester
}

type loginRes struct {
	playerID string
	err      error
}

type loginBatcher struct {
	db    *db.DB
	queue chan *loginReq
	sizes prometheus.Histogram
	wg    sync.WaitGroup
}

func newLoginBatcher(d *db.DB, reg prometheus.Registerer) *loginBatcher {
	b := &loginBatcher{db: d, queue: make(chan *loginReq, loginQueueLen),
		sizes: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "atoll_identity_device_login_batch_size",
			Help:    "Device logins group-committed per database statement.",
			Buckets: prometheus.ExponentialBuckets(1, 2, 9),
		})}
	if reg != nil {
		reg.MustRegister(b.sizes)
	}
	return b
}

// run starts the workers; they stop when ctx ends.
func (b *loginBatcher) run(ctx context.Context) {
	for range deviceLoginWorkers {
		b.wg.Add(1)
		go func() {
			defer b.wg.Done()
			b.work(ctx)
		}()
	}
}

func (b *loginBatcher) wait() { b.wg.Wait() }

var errStopping = errors.New("identity service stopping")

// login queues one device login and waits for its batch. It returns
// pgx.ErrNoRows for an unknown (or erased) device.
func (b *loginBatcher) login(ctx context.Context, deviceHash string, sess pendingSession) (string, error) {
	req := &loginReq{deviceHash: deviceHash, sess: sess, done: make(chan loginRes, 1)}
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

func (b *loginBatcher) work(ctx context.Context) {
	batch := make([]*loginReq, 0, maxLoginBatch)
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
		for len(batch) < maxLoginBatch {
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
func (b *loginBatcher) drain() {
	for {
		select {
		case r := <-b.queue:
			r.done <- loginRes{err: errStopping}
		default:
			return
		}
	}
}

func (b *loginBatcher) exec(ctx context.Context, batch []*loginReq) {
	n := len(batch)
	b.sizes.Observe(float64(n))
	devs, hashes, fams := make([]string, n), make([]string, n), make([]string, n)
	exps, fexps := make([]time.Time, n), make([]time.Time, n)
	for i, r := range batch {
		devs[i], hashes[i], fams[i] = r.deviceHash, r.sess.hash, r.sess.family
		exps[i], fexps[i] = r.sess.expires, r.sess.familyExpires
	}
	found := make(map[string]string, n)
	err := b.db.Retry(ctx, func(ctx context.Context) error {
		clear(found)
		rows, err := b.db.Pool.Query(ctx, deviceBatchSQL, devs, hashes, fams, exps, fexps)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var h, id string
			if err := rows.Scan(&h, &id); err != nil {
				return err
			}
			found[h] = id
		}
		return rows.Err()
	})
	for _, r := range batch {
		switch id, ok := found[r.sess.hash]; {
		case err != nil:
			r.done <- loginRes{err: fmt.Errorf("device login batch: %w", err)}
		case ok:
			r.done <- loginRes{playerID: id}
		default:
			r.done <- loginRes{err: pgx.ErrNoRows}
		}
	}
}
