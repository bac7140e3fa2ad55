package telemetry

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/atollgg/atoll/contract"
	"github.com/atollgg/atoll/internal/db"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
)

// Settings are the sink's operator settings in the global core's Config
// (ATOLL_TELEMETRY_*). The zero value disables the sink.
type Settings struct {
	// NATSURL is the hub's client URL to consume from
	// (ATOLL_TELEMETRY_NATS_URL); empty disables the sink.
	NATSURL string
	// Domain is the hub's JetStream domain; empty means
	// contract.GlobalDomain.
	Domain string
	// Retention is how long events are kept (ATOLL_TELEMETRY_RETENTION);
	// zero means DefaultRetention.
	Retention time.Duration
	// Rules are the anti-cheat rules; the zero value means DefaultRules().
	Rules Rules
}

// Validate checks s without connecting.
func (s Settings) Validate() error {
	if s.NATSURL == "" {
		return nil
	}
	if s.Retention != 0 && s.Retention < 24*time.Hour {
		return errors.New("telemetry retention must be at least a day (ATOLL_TELEMETRY_RETENTION)")
	}
	if s.Rules != (Rules{}) {
		return s.Rules.validate()
	}
	return nil
}

// connectTimeout bounds the first connection to the hub; the client
// reconnects forever after that.
const connectTimeout = 10 * time.Second

// Run connects to the hub and runs the sink until ctx ends: the global
// core's entry point. It returns at once when st disables the sink.
func Run(ctx context.Context, st Settings, d *db.DB, suspend Suspender, log *slog.Logger, reg prometheus.Registerer) error {
	if st.NATSURL == "" {
		return nil
	}
	nc, err := nats.Connect(st.NATSURL, nats.Name("atoll-global-telemetry"), nats.MaxReconnects(-1), nats.Timeout(connectTimeout))
	if err != nil {
		return fmt.Errorf("telemetry sink: connect %s: %w", st.NATSURL, err)
	}
	defer nc.Close()
	domain := st.Domain
	if domain == "" {
		domain = contract.GlobalDomain
	}
	js, err := jetstream.NewWithDomain(nc, domain)
	if err != nil {
		return fmt.Errorf("telemetry sink: jetstream: %w", err)
	}
	s, err := New(Config{DB: d, JS: js, Retention: st.Retention, Rules: st.Rules, Suspend: suspend, Log: log, Registry: reg})
	if err != nil {
		return err
	}
	return s.Run(ctx)
}
