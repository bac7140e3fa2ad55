// Package matchmaking owns a cell's matchmaking service: tickets and their
// persistence, the matching loop over cell/matchmaker pools, allocation of
// matched sessions on the fleet, the sessions' fleet events, and the
// players' HTTP and WebSocket API.
package matchmaking

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/atollgg/atoll/cell/fleet"
	"github.com/atollgg/atoll/cell/matchmaker"
	"github.com/atollgg/atoll/cell/sessions"
	"github.com/atollgg/atoll/contract"
	"github.com/atollgg/atoll/internal/ratelimit"
	"github.com/atollgg/atoll/internal/tokens"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
)

// Timing defaults and limits.
const (
	// DefaultPassInterval is how often every pool is matched even without a
	// join: expansions widen windows with time, so waiting tickets must be
	// re-examined; joins trigger a pass at once. Well under the 250 ms
	// join-to-matched budget.
	DefaultPassInterval = 100 * time.Millisecond
	// MaxPassInterval is the longest interval accepted: the bound on
	// how stale a queue may get.
	MaxPassInterval = 250 * time.Millisecond
	// allocateTimeout bounds one allocation: the fleet answers from its warm
	// pool in milliseconds; longer means it is stuck, and the match goes
	// back to the queue.
	allocateTimeout = 5 * time.Second
	// storeTimeout bounds one KV operation through the in-process
	// connection, which answers in microseconds unless the store is stuck.
	storeTimeout = 5 * time.Second
	// ratingsTimeout bounds the ratings lookup of one join; the client
	// falls back to cached or default ratings.
	ratingsTimeout = 2 * time.Second
	// pruneInterval is how often finished tickets and sessions past their
	// retention are deleted; retention is an hour or more, so a few
	// minutes' slack costs nothing.
	pruneInterval = 5 * time.Minute
	// restoreTimeout bounds loading tickets and sessions at start.
	restoreTimeout = time.Minute
	// limitedPlayers bounds the players the join rate limiter tracks: more
	// than a cell's concurrent players, evicting the idlest beyond it.
	limitedPlayers = 200_000
)

// joinRate bounds each player's joins and party consents: a player joins
// once per match and sometimes cancels and rejoins, so 30 a minute with a
// burst of 10 never bothers a person but stops a client stuck in a loop.
var joinRate = ratelimit.Rate{Events: 30, Per: time.Minute, Burst: 10}

// Allocator is the fleet as matchmaking uses it; *fleet.Fleet implements it.
type Allocator interface {
	// Allocate hands a match to a Ready server; fleet.ErrNoCapacity means
	// none is Ready. Allocating the same session again returns the same
	// allocation.
	Allocate(ctx context.Context, m fleet.Match) (fleet.Allocation, error)
	// Session reports whether a server still plays a session, or how it
	// ended (fleet.Fleet.Session).
	Session(sessionID string) (fleet.Event, fleet.SessionFate)
	// Release frees the server of an allocation that could not be
	// recorded; its session fails.
	Release(sessionID, reason string)
}

// RatingSource gives players' ratings in a mode; it never fails (defaults
// stand in). *ratings.Client implements it.
type RatingSource interface {
	Ratings(ctx context.Context, mode string, playerIDs []string) map[string]float64
}

// Publisher stores an event on the cell's stream with a dedup id;
// *bus.Bus implements it.
type Publisher interface {
	Publish(ctx context.Context, kind string, data []byte, msgID string) (*jetstream.PubAck, error)
}

// Config is the matchmaking service's whole configuration.
type Config struct {
	// CellID and Region identify the cell; Region selects each ticket's
	// latency from latencies_ms. Required.
	CellID, Region string
	// Modes are the game modes; they must pass matchmaker.ValidateModes.
	// Required.
	Modes []matchmaker.Mode
	// Tickets is the tickets bucket (TicketBucketConfig). Required.
	Tickets jetstream.KeyValue
	// Sessions stores game sessions. Required.
	Sessions *sessions.Store
	// Fleet allocates servers. Required.
	Fleet Allocator
	// Events is the cell's session-event stream, the fleet's event sink;
	// the service applies it through a durable consumer. Required.
	Events *sessions.EventLog
	// Ratings gives players' ratings. Required.
	Ratings RatingSource
	// Publisher stores match.completed events. Required.
	Publisher Publisher
	// Verifier checks players' access tokens. Required.
	Verifier *tokens.Verifier
	// ConnectKeys signs connect and party tokens; Issuer is their "iss".
	// Required.
	ConnectKeys *tokens.KeyRing
	Issuer      string
	// ConnectTTL is a connect token's lifetime; zero means
	// tokens.DefaultConnectTTL.
	ConnectTTL time.Duration
	// Forward sends players through the region's relay instead of to game
	// servers directly; zero means players get the servers' addresses.
	Forward *Forward
	// PassInterval is the period of the matching loop; zero means
	// DefaultPassInterval, at most MaxPassInterval.
	PassInterval time.Duration
	// MaxWebSockets bounds the open /ws connections; zero means
	// DefaultMaxWSConnections, at most MaxWSConnectionsLimit.
	MaxWebSockets int
	// Log is the logger; nil means slog.Default().
	Log *slog.Logger
	// Registry receives the service's metrics; nil leaves them unregistered.
	Registry prometheus.Registerer
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

func (c *Config) check() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if c.CellID == "" || c.Region == "" {
		bad("cell id and region are required")
	}
	if c.MaxWebSockets < 1 || c.MaxWebSockets > MaxWSConnectionsLimit {
		bad("max websockets %d: want 1 to %d", c.MaxWebSockets, MaxWSConnectionsLimit)
	}
	if len(c.Modes) == 0 {
		bad("at least one game mode is required")
	} else if err := matchmaker.ValidateModes(c.Modes); err != nil {
		errs = append(errs, err)
	}
	if c.Tickets == nil || c.Sessions == nil || c.Fleet == nil || c.Events == nil || c.Ratings == nil || c.Publisher == nil {
		bad("tickets bucket, sessions store, fleet, session events, ratings and publisher are required")
	}
	if c.Verifier == nil || c.ConnectKeys == nil || c.Issuer == "" {
		bad("access-token verifier, connect keys and issuer are required")
	}
	if f := c.Forward; f != nil && (f.RelayHost == "" || f.RelayPort <= 0 || len(f.Key) != contract.ForwardKeySize) {
		bad("forwarding needs the relay's host and port and a %d-byte key", contract.ForwardKeySize)
	}
	if c.ConnectTTL < 0 || c.ConnectTTL > maxConnectTTL {
		bad("connect token TTL must be between 0 and %s", maxConnectTTL)
	}
	if c.PassInterval < 0 || c.PassInterval > MaxPassInterval {
		bad("pass interval must be between 0 and %s", MaxPassInterval)
	}
	return errors.Join(errs...)
}

// maxConnectTTL bounds the connect-token lifetime: a leaked token must stop
// working soon; players connect within seconds of the match.
const maxConnectTTL = 10 * time.Minute

// Service is the matchmaking service.
type Service struct {
	cfg     Config
	log     *slog.Logger
	modes   map[string]matchmaker.Mode
	pools   map[string]*matchmaker.Pool
	store   ticketStore
	party   *tokens.Verifier
	hub     *hub
	limit   *ratelimit.Limiter
	metrics *metrics
	wake    chan struct{} // cap 1: run a pass now
	// connects caches players' connect tokens.
	connects connectTokens

	mu       sync.Mutex // guards following
	tickets  map[string]*Ticket
	byPlayer map[string]string // player id → their latest ticket id
	started  bool

	runCtx context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// New checks cfg and builds the service; Start restores its state.
func New(cfg Config) (*Service, error) {
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.PassInterval == 0 {
		cfg.PassInterval = DefaultPassInterval
	}
	if cfg.MaxWebSockets == 0 {
		cfg.MaxWebSockets = DefaultMaxWSConnections
	}
	if err := cfg.check(); err != nil {
		return nil, fmt.Errorf("matchmaking config: %w", err)
	}
	party, err := tokens.NewVerifier(tokens.VerifierConfig{Keys: cfg.ConnectKeys, Issuer: cfg.Issuer, Audience: cfg.CellID, TokenUse: TokenUseParty})
	if err != nil {
		return nil, fmt.Errorf("matchmaking: %w", err)
	}
	s := &Service{
		cfg:      cfg,
		log:      cfg.Log.With("component", "matchmaking"),
		modes:    map[string]matchmaker.Mode{},
		pools:    map[string]*matchmaker.Pool{},
		store:    ticketStore{kv: cfg.Tickets},
		party:    party,
		wake:     make(chan struct{}, 1),
		tickets:  map[string]*Ticket{},
		byPlayer: map[string]string{},
	}
	for _, m := range cfg.Modes {
		p, err := matchmaker.NewPool(m)
		if err != nil {
			return nil, fmt.Errorf("matchmaking: %w", err)
		}
		s.modes[m.Name] = p.Mode()
		s.pools[m.Name] = p
	}
	if s.limit, err = ratelimit.New(joinRate, limitedPlayers); err != nil {
		return nil, fmt.Errorf("matchmaking: %w", err)
	}
	s.metrics = newMetrics(s, cfg.Registry)
	s.runCtx, s.cancel = context.WithCancel(context.Background())
	s.hub = newHub(s, cfg.MaxWebSockets)
	return s, nil
}

// Start restores tickets and sessions from the KV (see restore), then runs
// the matching loop and the session-event loop (which first reconciles the
// sessions the previous run left unfinished) until Shutdown.
func (s *Service) Start(ctx context.Context) error {
	s.mu.Lock()
	if s.started {
		s.mu.Unlock()
		return errors.New("matchmaking: already started")
	}
	s.started = true
	s.mu.Unlock()
	rctx, cancel := context.WithTimeout(ctx, restoreTimeout)
	defer cancel()
	if err := s.restore(rctx); err != nil {
		return fmt.Errorf("matchmaking: restore: %w", err)
	}
	cons, err := s.cfg.Events.Consumer(rctx, EventConsumer, eventAckWait, eventMaxAckPending)
	if err != nil {
		return fmt.Errorf("matchmaking: %w", err)
	}
	s.wg.Add(2)
	go func() { defer s.wg.Done(); s.matchLoop() }()
	go func() { defer s.wg.Done(); s.eventLoop(cons) }()
	return nil
}

// Shutdown stops the loops and closes every WebSocket. Queued tickets stay
// in the KV for the next start.
func (s *Service) Shutdown(ctx context.Context) error {
	s.cancel()
	s.hub.closeAll()
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("matchmaking shutdown: %w", ctx.Err())
	}
}

// Modes returns the configured modes.
func (s *Service) Modes() []matchmaker.Mode {
	out := make([]matchmaker.Mode, 0, len(s.cfg.Modes))
	for _, m := range s.cfg.Modes {
		out = append(out, s.modes[m.Name])
	}
	return out
}

// QueueLen returns the number of tickets queued in mode.
func (s *Service) QueueLen(mode string) int {
	p, ok := s.pools[mode]
	if !ok {
		return 0
	}
	return p.Len()
}

// poke asks the matching loop for a pass now.
func (s *Service) poke() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

func (s *Service) storeCtx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(s.runCtx), storeTimeout)
}
