package telemetry

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/atollgg/atoll/contract"
	"github.com/atollgg/atoll/internal/db"
	"github.com/jackc/pgx/v5"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
)

// Defaults of Config's zero values.
const (
	// DefaultDurable names the sink's durable consumer.
	DefaultDurable = "telemetry-sink"
	// DefaultDeadLetterStream and DefaultDeadLetterSubject hold batches no
	// retry can store, with the reason in a header.
	DefaultDeadLetterStream  = "TELEMETRY_DEAD"
	DefaultDeadLetterSubject = "telemetry.dead"
	// DefaultFetchMessages is one fetch's messages: a cell's batches hold
	// up to a thousand events, so a fetch is up to a few hundred thousand.
	DefaultFetchMessages = 256
	// DefaultMaxTxEvents flushes a transaction at this many events: large
	// enough that COPY's per-statement cost vanishes, small enough that a
	// transaction stays well under a second and a retry is cheap.
	DefaultMaxTxEvents = 20000
	// DefaultRetention keeps events 30 days: long enough for monthly
	// analytics and anti-cheat review, short enough to bound the table.
	DefaultRetention = 30 * 24 * time.Hour
	// DefaultRetentionInterval runs retention hourly; partitions are days.
	DefaultRetentionInterval = time.Hour
	// DefaultWorkers is two fetch-and-store loops: one decodes and fetches
	// while the other's transaction runs in the database. Duplicates
	// across them are safe: the second COPY waits on the first's key and
	// falls back to the deduplicating path.
	DefaultWorkers = 2
	// maxWorkers bounds Workers: each holds a database connection and a
	// transaction's rows in memory.
	maxWorkers = 16
)

// Timings of the consumer.
const (
	// fetchWait bounds one fetch when the stream is idle, so shutdown and
	// lag metrics never wait long.
	fetchWait = time.Second
	// ackWait is how long the stream waits for an ack before redelivering:
	// a transaction of DefaultMaxTxEvents takes well under a second, so 60 s
	// only trips on a stuck or dead sink.
	ackWait = time.Minute
	// retryDelay is how long a batch whose transaction failed waits before
	// redelivery: the database is down or overloaded, and hammering it
	// helps nobody.
	retryDelay = 2 * time.Second
	// deadLetterMaxAge keeps dead letters long enough to investigate.
	deadLetterMaxAge = 30 * 24 * time.Hour
)

// Suspender suspends a player in tx (identity.Suspend is one); it must be
// idempotent: a player already suspended stays so and is not an error.
type Suspender func(ctx context.Context, tx pgx.Tx, playerID, reason string) error

// Config configures the sink.
type Config struct {
	// DB is the global database. Required.
	DB *db.DB
	// JS is JetStream in contract.GlobalDomain. Required.
	JS jetstream.JetStream
	// Stream is the stream of cells' events; empty means
	// contract.CellEventsStream.
	Stream string
	// Durable is the consumer's name; empty means DefaultDurable.
	Durable string
	// DeadLetterStream and DeadLetterSubject receive undecodable batches;
	// empty means DefaultDeadLetterStream and DefaultDeadLetterSubject. The
	// sink creates the stream if it is missing.
	DeadLetterStream, DeadLetterSubject string
	// FetchMessages is the messages of one fetch; zero means
	// DefaultFetchMessages.
	FetchMessages int
	// MaxTxEvents flushes a transaction at this many events; zero means
	// DefaultMaxTxEvents.
	MaxTxEvents int
	// Retention is how long events are kept; zero means DefaultRetention.
	Retention time.Duration
	// RetentionInterval is how often retention runs; zero means
	// DefaultRetentionInterval.
	RetentionInterval time.Duration
	// Workers is Run's concurrent fetch-and-store loops; zero means
	// DefaultWorkers.
	Workers int
	// Rules are the anti-cheat rules; the zero value means DefaultRules().
	Rules Rules
	// Suspend suspends players the rules condemn; nil only flags them.
	Suspend Suspender
	// Log is the logger; nil means slog.Default().
	Log *slog.Logger
	// Registry receives the metrics; nil registers none.
	Registry prometheus.Registerer
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

func (c *Config) fill() error {
	if c.DB == nil || c.JS == nil {
		return errors.New("telemetry sink: database and JetStream are required")
	}
	if c.Stream == "" {
		c.Stream = contract.CellEventsStream
	}
	if c.Durable == "" {
		c.Durable = DefaultDurable
	}
	if c.DeadLetterStream == "" {
		c.DeadLetterStream = DefaultDeadLetterStream
	}
	if c.DeadLetterSubject == "" {
		c.DeadLetterSubject = DefaultDeadLetterSubject
	}
	if c.FetchMessages == 0 {
		c.FetchMessages = DefaultFetchMessages
	}
	if c.MaxTxEvents == 0 {
		c.MaxTxEvents = DefaultMaxTxEvents
	}
	if c.Retention == 0 {
		c.Retention = DefaultRetention
	}
	if c.RetentionInterval == 0 {
		c.RetentionInterval = DefaultRetentionInterval
	}
	if c.Workers == 0 {
		c.Workers = DefaultWorkers
	}
	if c.Rules == (Rules{}) {
		c.Rules = DefaultRules()
	}
	if c.Log == nil {
		c.Log = slog.Default()
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	switch {
	case c.Workers < 1 || c.Workers > maxWorkers:
		return fmt.Errorf("telemetry sink: workers %d, want 1 to %d", c.Workers, maxWorkers)
	case c.FetchMessages < 1 || c.MaxTxEvents < 1:
		return fmt.Errorf("telemetry sink: fetch messages %d and max tx events %d must be positive", c.FetchMessages, c.MaxTxEvents)
	case c.Retention < 24*time.Hour:
		return fmt.Errorf("telemetry sink: retention %v, want at least a day (partitions are days)", c.Retention)
	case c.RetentionInterval < time.Second:
		return fmt.Errorf("telemetry sink: retention interval %v, want at least a second", c.RetentionInterval)
	}
	return c.Rules.validate()
}
