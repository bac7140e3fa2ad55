// Package leaderboard owns a cell's regional leaderboards: in memory, fed by
// the cell's own match.completed events, rebuilt after a restart from a
// snapshot plus a replay of the cell's stream, and served over HTTP.
package leaderboard

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/atollgg/atoll/contract"
	"github.com/atollgg/atoll/internal/boardapi"
	"github.com/atollgg/atoll/internal/rank"
	"github.com/atollgg/atoll/internal/tokens"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
)

// Buckets of the cell's JetStream that boards keep their state in.
const (
	// SnapshotBucket is the object store of board snapshots.
	SnapshotBucket = "cell_leaderboards"
	// ErasedBucket is the KV bucket of erased players' ids.
	ErasedBucket = "cell_leaderboards_erased"
)

// Defaults of Config's zero values and other limits.
const (
	// DefaultSnapshotInterval is how often boards are snapshotted: an hour
	// of replay at start is seconds, and far inside the stream's max age.
	DefaultSnapshotInterval = time.Hour
	// DefaultKeepSeasons is how many past seasons a board keeps readable
	// besides the current one: a year of monthly, a quarter of weekly
	// boards.
	DefaultKeepSeasons = 12
	// DefaultErasedTTL is how long an erasure is remembered: longer than
	// the cell's stream keeps events (7 days), so a replay never restores
	// an erased player.
	DefaultErasedTTL = 8 * 24 * time.Hour
	// consumeRetryDelay paces retries after a consumer error (the ordered
	// consumer resets itself) so a lasting failure does not spin a core.
	consumeRetryDelay = 250 * time.Millisecond
	// snapshotTimeout bounds writing one snapshot.
	snapshotTimeout = time.Minute
	// maxEventBytes bounds a match.completed body the boards decode: a
	// 100-player lobby's results are about 15 KB.
	maxEventBytes = 1 << 20
)

// Config is the regional boards' whole configuration.
type Config struct {
	// CellID names the stream (CELL_<id>) and the subjects read. Required.
	CellID string
	// Definitions are the boards; only regional ones are kept here.
	Definitions []contract.LeaderboardDefinition
	// JS is the cell's JetStream. Required.
	JS jetstream.JetStream
	// Verifier checks players' access tokens for around=me. Required.
	Verifier *tokens.Verifier
	// Log is the logger. Required.
	Log *slog.Logger
	// SnapshotInterval is the snapshot period; zero means
	// DefaultSnapshotInterval.
	SnapshotInterval time.Duration
	// KeepSeasons is how many past seasons stay readable; zero means
	// DefaultKeepSeasons.
	KeepSeasons int
	// ErasedTTL is how long erasures are remembered; zero means
	// DefaultErasedTTL. It must exceed the stream's max age.
	ErasedTTL time.Duration
	// Now is the clock that picks the current season; nil means time.Now.
	Now func() time.Time
	// Registry receives the boards' metrics; nil means none are exported.
	Registry prometheus.Registerer
}

// Service is a cell's regional leaderboards.
type Service struct {
	cfg    Config
	log    *slog.Logger
	defs   map[string]*contract.LeaderboardDefinition
	boards *rank.Boards
	api    *boardapi.API
	snaps  jetstream.ObjectStore
	erased jetstream.KeyValue
	m      *metrics

	mu        sync.Mutex    // guards following
	lastSeq   uint64        // the last stream sequence applied
	notify    chan struct{} // closed and replaced whenever lastSeq moves
	erasedIDs map[string]bool
	started   bool
	cancel    context.CancelFunc
	wg        sync.WaitGroup
}

// New checks cfg and returns a service that Start brings up.
func New(cfg Config) (*Service, error) {
	if cfg.CellID == "" || cfg.JS == nil || cfg.Verifier == nil || cfg.Log == nil {
		return nil, errors.New("leaderboard: cell id, JetStream, verifier and logger are required")
	}
	defs := append([]contract.LeaderboardDefinition(nil), cfg.Definitions...)
	if err := contract.ValidateLeaderboards(defs); err != nil {
		return nil, err
	}
	if cfg.SnapshotInterval <= 0 {
		cfg.SnapshotInterval = DefaultSnapshotInterval
	}
	if cfg.KeepSeasons <= 0 {
		cfg.KeepSeasons = DefaultKeepSeasons
	}
	if cfg.ErasedTTL <= 0 {
		cfg.ErasedTTL = DefaultErasedTTL
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	s := &Service{cfg: cfg, log: cfg.Log.With("component", "leaderboards"), defs: map[string]*contract.LeaderboardDefinition{},
		boards: rank.NewBoards(), erasedIDs: map[string]bool{}, notify: make(chan struct{})}
	for i := range defs {
		if defs[i].Scope == contract.ScopeRegional {
			s.defs[defs[i].Name] = &defs[i]
		}
	}
	s.m = newMetrics(s, cfg.Registry)
	var err error
	if s.api, err = boardapi.New(boardapi.Config{Scope: contract.ScopeRegional, Definitions: defs, Boards: s.boards,
		Verifier: cfg.Verifier, Log: s.log, Now: cfg.Now}); err != nil {
		return nil, err
	}
	return s, nil
}

// Routes registers the read API (GET /leaderboards/{name} and
// GET /leaderboards/{name}/players/{id}) for the regional boards.
func (s *Service) Routes(mux *http.ServeMux, wrap func(http.Handler) http.Handler) {
	s.api.Routes(mux, wrap)
}

// Start opens the buckets, loads the latest snapshot, replays the stream
// from the snapshot's sequence until caught up, then keeps applying new
// events until Shutdown.
func (s *Service) Start(ctx context.Context) error {
	s.mu.Lock()
	if s.started {
		s.mu.Unlock()
		return errors.New("leaderboard: already started")
	}
	s.started = true
	s.mu.Unlock()
	var err error
	if s.snaps, err = s.cfg.JS.CreateOrUpdateObjectStore(ctx, jetstream.ObjectStoreConfig{
		Bucket: SnapshotBucket, Description: "regional leaderboard snapshots", Storage: jetstream.FileStorage,
	}); err != nil {
		return fmt.Errorf("leaderboard snapshots bucket: %w", err)
	}
	if s.erased, err = s.cfg.JS.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket: ErasedBucket, Description: "players erased from regional leaderboards", TTL: s.cfg.ErasedTTL,
		Storage: jetstream.FileStorage,
	}); err != nil {
		return fmt.Errorf("leaderboard erasures bucket: %w", err)
	}
	if err := s.loadErased(ctx); err != nil {
		return err
	}
	if err := s.loadSnapshot(ctx); err != nil {
		return err
	}
	s.mu.Lock()
	from := s.lastSeq + 1
	s.mu.Unlock()
	// Caught up means past the last match.completed stored when Start
	// began: on a busy cell the consumer may never see zero pending.
	stream := contract.CellStreamName(s.cfg.CellID)
	subject := contract.CellSubject(s.cfg.CellID, contract.KindMatchCompleted)
	st, err := s.cfg.JS.Stream(ctx, stream)
	if err != nil {
		return fmt.Errorf("leaderboard replay: %w", err)
	}
	var target uint64
	switch last, err := st.GetLastMsgForSubject(ctx, subject); {
	case err == nil:
		target = last.Sequence
	case !errors.Is(err, jetstream.ErrMsgNotFound):
		return fmt.Errorf("leaderboard replay: %w", err)
	}
	cons, err := s.cfg.JS.OrderedConsumer(ctx, stream, jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{subject},
		DeliverPolicy:  jetstream.DeliverByStartSequencePolicy, OptStartSeq: from,
	})
	if err != nil {
		return fmt.Errorf("leaderboard replay consumer: %w", err)
	}
	it, err := cons.Messages()
	if err != nil {
		return fmt.Errorf("leaderboard replay consumer: %w", err)
	}
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	s.cancel = cancel
	caughtUp := make(chan struct{})
	ready := target < from
	if ready {
		close(caughtUp)
	}
	s.wg.Add(3)
	go func() { defer s.wg.Done(); <-runCtx.Done(); it.Stop() }()
	go func() { defer s.wg.Done(); s.consume(runCtx, it, ready, target, caughtUp) }()
	go func() { defer s.wg.Done(); s.snapshotLoop(runCtx) }()
	select {
	case <-caughtUp:
		s.Prune()
		s.log.Info("regional leaderboards ready", "boards", len(s.defs), "replayed_from", from, "replayed_to", target)
		return nil
	case <-ctx.Done():
		return fmt.Errorf("leaderboard replay: %w", ctx.Err())
	}
}

// consume applies events in stream order until the iterator stops.
func (s *Service) consume(ctx context.Context, it jetstream.MessagesContext, ready bool, target uint64, caughtUp chan struct{}) {
	for {
		msg, err := it.Next()
		if err != nil {
			if errors.Is(err, jetstream.ErrMsgIteratorClosed) || ctx.Err() != nil {
				return
			}
			s.log.Warn("leaderboard consumer", "err", err)
			select { // the ordered consumer recreates itself; do not spin meanwhile
			case <-time.After(consumeRetryDelay):
			case <-ctx.Done():
				return
			}
			continue
		}
		md, err := msg.Metadata()
		if err != nil {
			s.log.Warn("leaderboard event without metadata", "err", err)
			continue
		}
		s.applyMsg(md.Sequence.Stream, msg.Data())
		if !ready && (md.Sequence.Stream >= target || md.NumPending == 0) {
			ready = true
			close(caughtUp)
		}
	}
}

func (s *Service) applyMsg(seq uint64, data []byte) {
	var ev contract.MatchCompleted
	err := json.Unmarshal(data, &ev)
	if err == nil {
		err = validate(ev, len(data))
	}
	if err != nil {
		// An event no board can use: skip it, never stall the boards.
		s.log.Warn("skipping invalid match.completed", "seq", seq, "err", err)
		s.m.events.WithLabelValues("invalid").Inc()
		s.mu.Lock()
		s.advance(seq)
		s.mu.Unlock()
		return
	}
	s.Apply(seq, ev)
	s.m.events.WithLabelValues("applied").Inc()
}

func validate(ev contract.MatchCompleted, size int) error {
	switch {
	case size > maxEventBytes:
		return fmt.Errorf("event of %d bytes, at most %d", size, maxEventBytes)
	case ev.EndedAt.IsZero():
		return errors.New("no ended_at")
	}
	for _, p := range ev.Players {
		if p.PlayerID == "" {
			return errors.New("a player result without player_id")
		}
	}
	return nil
}

// Apply applies one match's results to every regional board; seq is its
// stream sequence. Erased players are skipped. A match counts in the
// season its end falls in, and ties are ordered by that end time.
func (s *Service) Apply(seq uint64, ev contract.MatchCompleted) {
	s.mu.Lock()
	defer s.mu.Unlock()
	updated := ev.EndedAt.UnixMicro()
	for _, d := range s.defs {
		season := d.Season(ev.EndedAt)
		for _, p := range ev.Players {
			v, ok := d.Value(ev.GameMode, p)
			if !ok || s.erasedIDs[p.PlayerID] {
				continue
			}
			s.boards.Apply(d.Name, season, orderOf(d), opOf(d), p.PlayerID, v, updated)
		}
	}
	s.advance(seq)
}

// advance records seq as applied and wakes WaitSeq; s.mu is held.
func (s *Service) advance(seq uint64) {
	if seq > s.lastSeq {
		s.lastSeq = seq
		close(s.notify)
		s.notify = make(chan struct{})
	}
}

// WaitSeq waits until the boards include stream sequence seq (e.g. the
// sequence of a just-published event).
func (s *Service) WaitSeq(ctx context.Context, seq uint64) error {
	for {
		s.mu.Lock()
		last, ch := s.lastSeq, s.notify
		s.mu.Unlock()
		if last >= seq {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("wait for leaderboard sequence %d (at %d): %w", seq, last, ctx.Err())
		}
	}
}

// LastSeq is the last stream sequence applied.
func (s *Service) LastSeq() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lastSeq
}

func orderOf(d *contract.LeaderboardDefinition) rank.Order {
	if d.Order == contract.OrderAsc {
		return rank.Asc
	}
	return rank.Desc
}

func opOf(d *contract.LeaderboardDefinition) rank.Op {
	switch d.Operator {
	case contract.OperatorSet:
		return rank.Set
	case contract.OperatorIncrement:
		return rank.Increment
	}
	return rank.Best
}

// Shutdown stops consuming and writes a final snapshot.
func (s *Service) Shutdown(ctx context.Context) error {
	if s.cancel == nil {
		return nil
	}
	s.cancel()
	s.wg.Wait()
	return s.Snapshot(ctx)
}
