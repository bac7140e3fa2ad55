package telemetry

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/atollgg/atoll/cell/fleet"
	"github.com/atollgg/atoll/contract"
	"github.com/atollgg/atoll/internal/httpx"
	"github.com/atollgg/atoll/internal/ratelimit"
	"github.com/atollgg/atoll/internal/tokens"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
)

// Limits of the ingest as a whole.
const (
	// DefaultMaxInFlight bounds batches being published at once. The
	// embedded JetStream acks a publish in well under a millisecond, so 512
	// in flight is far beyond what keeps it busy (the publish benchmark
	// peaks below 64); past it the cell answers 503 rather than queueing
	// memory without bound.
	DefaultMaxInFlight = 512
	// publishTimeout bounds one publish: longer means the store is stuck,
	// and the sender should retry later.
	publishTimeout = 5 * time.Second
	// busyRetryAfter is the Retry-After of a 503 when the in-flight cap is
	// reached: publishes drain in milliseconds, so a second is plenty.
	busyRetryAfter = time.Second
	// maxSenderKeys bounds each rate limiter's table: far beyond a cell's
	// concurrent players and servers.
	maxSenderKeys = 1 << 20
)

// Publisher stores a message on the cell's stream under kind, deduplicated
// by msgID, and returns after the stream's ack; *bus.Bus is one.
type Publisher interface {
	Publish(ctx context.Context, kind string, data []byte, msgID string) (*jetstream.PubAck, error)
}

// ServerAuthenticator checks a game server's credential on a request;
// (*fleet.Fleet).AuthenticateTelemetry is one.
type ServerAuthenticator func(r *http.Request) (fleet.TelemetryServer, error)

// Config configures the ingest.
type Config struct {
	// CellID and Region stamp every batch. Required.
	CellID, Region string
	// Publisher stores batches. Required.
	Publisher Publisher
	// Verifier checks players' access tokens; nil refuses players.
	Verifier *tokens.Verifier
	// Servers checks game servers' credentials on the cell's API; nil
	// refuses game servers there (they still reach FleetSink).
	Servers ServerAuthenticator
	// Client and Server are the limits per sender kind; the zero value
	// means DefaultClientLimits() and DefaultServerLimits().
	Client, Server Limits
	// MaxInFlight bounds concurrent publishes; zero means
	// DefaultMaxInFlight.
	MaxInFlight int
	// Log is the logger; nil means slog.Default().
	Log *slog.Logger
	// Registry receives the metrics; nil registers none.
	Registry prometheus.Registerer
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Ingest accepts telemetry batches and publishes them durably.
type Ingest struct {
	cfg      Config
	log      *slog.Logger
	inflight chan struct{}
	clients  *ratelimit.Limiter
	servers  *ratelimit.Limiter
	metrics  *metrics
}

// New checks cfg and returns an ingest.
func New(cfg Config) (*Ingest, error) {
	if cfg.CellID == "" || cfg.Publisher == nil {
		return nil, errors.New("telemetry ingest: cell id and publisher are required")
	}
	cfg.Client = cfg.Client.withDefaults(DefaultClientLimits())
	cfg.Server = cfg.Server.withDefaults(DefaultServerLimits())
	if err := cfg.Client.validate("client"); err != nil {
		return nil, fmt.Errorf("telemetry ingest: %w", err)
	}
	if err := cfg.Server.validate("server"); err != nil {
		return nil, fmt.Errorf("telemetry ingest: %w", err)
	}
	if cfg.MaxInFlight == 0 {
		cfg.MaxInFlight = DefaultMaxInFlight
	}
	if cfg.MaxInFlight < 1 {
		return nil, fmt.Errorf("telemetry ingest: max in flight %d, want at least 1", cfg.MaxInFlight)
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	clients, err := ratelimit.New(cfg.Client.Rate, maxSenderKeys)
	if err != nil {
		return nil, fmt.Errorf("telemetry ingest: %w", err)
	}
	servers, err := ratelimit.New(cfg.Server.Rate, maxSenderKeys)
	if err != nil {
		return nil, fmt.Errorf("telemetry ingest: %w", err)
	}
	in := &Ingest{
		cfg: cfg, log: cfg.Log.With("component", "telemetry"),
		inflight: make(chan struct{}, cfg.MaxInFlight), clients: clients, servers: servers,
	}
	in.metrics = newMetrics(cfg.Registry, in)
	return in, nil
}

// errBusy answers a batch over the in-flight cap.
var errBusy = &httpx.Error{Status: http.StatusServiceUnavailable, Code: httpx.CodeUnavailable,
	Message: "telemetry ingest is busy, retry later", RetryAfter: busyRetryAfter}

// Result is the outcome of an accepted batch, the body of the 202.
type Result struct {
	BatchID string `json:"batch_id"`
	// Accepted is the number of events stored.
	Accepted int `json:"accepted"`
	// Duplicate is true when the batch had been stored before (a retry).
	Duplicate bool `json:"duplicate,omitempty"`
}

// Publish stores b as one message on the cell's stream and returns after
// the stream acked it. It fails with errBusy over the in-flight cap and
// with a 503 when the stream cannot store it; either way the sender may
// retry with the same batch id.
func (in *Ingest) Publish(ctx context.Context, b contract.TelemetryBatch) (Result, error) {
	select {
	case in.inflight <- struct{}{}:
	default:
		in.metrics.batch(b.Sender, "busy", len(b.Events))
		return Result{}, errBusy
	}
	defer func() { <-in.inflight }()
	b.CellID, b.Region = in.cfg.CellID, in.cfg.Region
	data := appendBatch(make([]byte, 0, encodedSizeHint(&b)), &b)
	ctx, cancel := context.WithTimeout(ctx, publishTimeout)
	defer cancel()
	ack, err := in.cfg.Publisher.Publish(ctx, contract.KindTelemetry, data, contract.TelemetryMsgID(b.Sender, b.SenderID, b.BatchID))
	if err != nil {
		in.metrics.batch(b.Sender, "failed", len(b.Events))
		in.log.Warn("publish telemetry", "sender", b.Sender, "err", err)
		return Result{}, &httpx.Error{Status: http.StatusServiceUnavailable, Code: httpx.CodeUnavailable,
			Message: "telemetry cannot be stored now, retry", RetryAfter: busyRetryAfter}
	}
	result := "accepted"
	if ack.Duplicate {
		result = "duplicate"
	}
	in.metrics.batch(b.Sender, result, len(b.Events))
	return Result{BatchID: b.BatchID, Accepted: len(b.Events), Duplicate: ack.Duplicate}, nil
}

// FleetSink publishes game servers' batches from the SDK port
// (POST /v1/telemetry) in the same contract as the cell's API. The SDK
// contract's event kinds become event types; each event's id derives from
// the batch id and its position, so a re-sent batch dedupes in the core.
func (in *Ingest) FleetSink() fleet.TelemetrySink {
	return func(ctx context.Context, t fleet.Telemetry) error {
		now := in.cfg.Now()
		if ok, _ := in.servers.Allow(t.ServerID, now); !ok {
			in.metrics.batch(contract.SenderServer, "rate_limited", len(t.Events))
			return errors.New("telemetry rate limit exceeded")
		}
		b := contract.TelemetryBatch{
			Sender: contract.SenderServer, SenderID: t.ServerID, BatchID: t.BatchID, GameMode: t.Mode,
			ReceivedAt: now.UTC(), Events: make([]contract.TelemetryEvent, len(t.Events)),
		}
		for i, e := range t.Events {
			ts := e.At
			if ts.After(now.Add(MaxClockSkew)) {
				ts = now
			}
			b.Events[i] = contract.TelemetryEvent{
				EventID: EventID(contract.SenderServer, t.ServerID, t.BatchID+"#"+strconv.Itoa(i)), PlayerID: e.PlayerID,
				SessionID: t.SessionID, EventType: e.Kind, Payload: e.Data, Timestamp: ts.UTC(),
			}
		}
		_, err := in.Publish(ctx, b)
		return err
	}
}

// encodedSizeHint guesses a batch's JSON size, so encoding allocates once:
// ~120 bytes of keys, ids and timestamps per event plus its payload.
func encodedSizeHint(b *contract.TelemetryBatch) int {
	n := 256
	for i := range b.Events {
		n += 160 + len(b.Events[i].PlayerID) + len(b.Events[i].SessionID) + len(b.Events[i].EventType) + len(b.Events[i].Payload)
	}
	return n
}
