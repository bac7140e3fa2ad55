package federation

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/atollgg/atoll/contract"
	"github.com/jackc/pgx/v5"
	"github.com/nats-io/nats.go/jetstream"
)

// Outbox timings and limits.
const (
	// outboxPoll is how often the publisher looks for rows when nobody
	// kicked it: the latency of an erasure reaching the cells is not
	// user-facing, and an idle poll is one indexed query.
	outboxPoll = 500 * time.Millisecond
	// outboxBatch bounds the rows one round publishes.
	outboxBatch = 256
	// MaxOutboxData bounds an outbox event's body: the core's events are
	// small records; the stream's own limit is 1 MiB.
	MaxOutboxData = 64 << 10
)

// Enqueue records an event for every cell in the caller's transaction:
// subject must be global.<kind> (contract.GlobalSubject), msgID its
// Nats-Msg-Id. The publisher sends it to GLOBAL_EVENTS after the commit and
// deletes the row after the stream's ack; enqueuing the same msgID twice
// stores one row.
func Enqueue(ctx context.Context, tx pgx.Tx, subject, msgID string, data []byte) error {
	if !strings.HasPrefix(subject, contract.GlobalSubject("")) || len(subject) == len(contract.GlobalSubject("")) {
		return fmt.Errorf("outbox: subject %q is not global.<kind>", subject)
	}
	if msgID == "" {
		return errors.New("outbox: a message id is required")
	}
	if len(data) > MaxOutboxData {
		return fmt.Errorf("outbox: event of %d bytes exceeds %d", len(data), MaxOutboxData)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO federation_outbox (msg_id, subject, data) VALUES ($1, $2, $3)
		ON CONFLICT (msg_id) DO NOTHING`, msgID, subject, data); err != nil {
		return fmt.Errorf("outbox: enqueue %s: %w", subject, err)
	}
	return nil
}

// Kick wakes the outbox publisher now instead of at its next poll; call it
// after committing a transaction that enqueued.
func (f *Federation) Kick() {
	select {
	case f.kick <- struct{}{}:
	default:
	}
}

type outboxRow struct {
	msgID, subject string
	data           []byte
}

func (f *Federation) publishOutbox(ctx context.Context) {
	delay := retryMin
	for {
		n, err := f.publishRound(ctx)
		if ctx.Err() != nil {
			return
		}
		wait := outboxPoll
		switch {
		case err != nil:
			f.metrics.outboxErrors.Inc()
			f.log.Warn("publish outbox; retrying", "err", err, "in", delay)
			wait, delay = delay, min(delay*2, retryMax)
		case n == outboxBatch:
			delay = retryMin
			continue // more rows waiting
		default:
			delay = retryMin
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-f.kick:
			t.Stop()
		case <-t.C:
		}
	}
}

// publishRound publishes the oldest rows in order and deletes each after
// GLOBAL_EVENTS acked it; a crash in between republishes it under the same
// Nats-Msg-Id, which the stream deduplicates.
func (f *Federation) publishRound(ctx context.Context) (int, error) {
	rows, err := f.cfg.DB.Pool.Query(ctx, `SELECT msg_id, subject, data FROM federation_outbox
		ORDER BY created_at, msg_id LIMIT $1`, outboxBatch)
	if err != nil {
		return 0, fmt.Errorf("read outbox: %w", err)
	}
	var batch []outboxRow
	for rows.Next() {
		var r outboxRow
		if err := rows.Scan(&r.msgID, &r.subject, &r.data); err != nil {
			rows.Close()
			return 0, fmt.Errorf("read outbox: %w", err)
		}
		batch = append(batch, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("read outbox: %w", err)
	}
	for _, r := range batch {
		if _, err := f.cfg.JS.Publish(ctx, r.subject, r.data, jetstream.WithMsgID(r.msgID),
			jetstream.WithExpectStream(contract.GlobalEventsStream)); err != nil {
			return 0, fmt.Errorf("publish %s: %w", r.subject, err)
		}
		if err := f.cfg.DB.Retry(ctx, func(ctx context.Context) error {
			_, err := f.cfg.DB.Pool.Exec(ctx, `DELETE FROM federation_outbox WHERE msg_id = $1`, r.msgID)
			return err
		}); err != nil {
			return 0, fmt.Errorf("delete published outbox row: %w", err)
		}
		f.metrics.outboxPublished.Inc()
	}
	return len(batch), nil
}

// EnqueuePlayerErased is the players service's eraser (players.EraseFunc):
// in the erasure's transaction it enqueues contract.PlayerErased for every
// cell, so regional boards and cell state forget the player too.
func EnqueuePlayerErased(ctx context.Context, tx pgx.Tx, playerID string) error {
	data, err := json.Marshal(contract.PlayerErased{PlayerID: playerID, ErasedAt: time.Now().UTC()})
	if err != nil {
		return fmt.Errorf("outbox: encode erasure: %w", err)
	}
	return Enqueue(ctx, tx, contract.GlobalSubject(contract.KindPlayerErased), contract.PlayerErasedMsgID(playerID), data)
}
