package route

import (
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/atollgg/atoll/contract"
	"github.com/atollgg/atoll/internal/authn"
	"github.com/atollgg/atoll/internal/httpx"
	"github.com/atollgg/atoll/internal/ratelimit"
	"github.com/atollgg/atoll/internal/tokens"
	"github.com/atollgg/atoll/topology"
)

// Paths of the routing API.
const (
	// PathRoute ranks cells for the calling player: POST with a
	// contract.RouteRequest and a bearer access token.
	PathRoute = "/route"
	// PathTopology serves the public part of the world (contract.Topology).
	PathTopology = "/topology"
)

// Request limits.
const (
	// MaxBodyBytes bounds a route request: 64 regions of short ids and two
	// numbers each are about 4 KiB.
	MaxBodyBytes = 16 << 10
	// MaxRegions bounds the regions of a request, as matchmaking's join
	// does.
	MaxRegions = 64
	// MaxLatencyMs bounds a measured round trip: beyond 10 s it is not a
	// measurement of a usable path.
	MaxLatencyMs = 10_000
	// maxRegionLen bounds a region id in a request (topology ids are at
	// most 63 bytes).
	maxRegionLen = 63
)

// DefaultRate is each player's allowance of route requests: a client
// routes at start and re-probes every few minutes, so 30 a minute with a
// burst of 10 never refuses a real client and caps a looping one.
var DefaultRate = ratelimit.Rate{Events: 30, Per: time.Minute, Burst: 10}

// maxRateKeys bounds the rate limiter's table: players who routed within
// the last minute (a bucket refills in 20 s), ~18 MiB at ~70 bytes a key.
const maxRateKeys = 1 << 18

// Config configures a Service.
type Config struct {
	// World returns the current world (e.g. topology.Watcher.World).
	// Required.
	World func() *topology.World
	// Health returns the cells' live health; zero means none is known and
	// every declared cell is taken as healthy.
	Health func() Health
	// Verifier checks players' access tokens (the global core's JWKS).
	// Required.
	Verifier *tokens.Verifier
	// Rate is each player's allowance of route requests; zero means
	// DefaultRate.
	Rate ratelimit.Rate
	// Log receives handler failures; zero means slog.Default().
	Log *slog.Logger
}

// Service serves POST /route and GET /topology.
type Service struct {
	cfg     Config
	limiter *ratelimit.Limiter
}

// New checks cfg and returns a Service.
func New(cfg Config) (*Service, error) {
	if cfg.World == nil || cfg.Verifier == nil {
		return nil, errors.New("route: World and Verifier are required")
	}
	if cfg.Health == nil {
		cfg.Health = func() Health { return Health{} }
	}
	if cfg.Rate.IsOff() {
		cfg.Rate = DefaultRate
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	lim, err := ratelimit.New(cfg.Rate, maxRateKeys)
	if err != nil {
		return nil, err
	}
	return &Service{cfg: cfg, limiter: lim}, nil
}

// Routes mounts POST /route and GET /topology on mux.
func (s *Service) Routes(mux *http.ServeMux) {
	mux.Handle("POST "+PathRoute, s.RouteHandler())
	mux.Handle("GET "+PathTopology, s.TopologyHandler())
}

// RouteHandler is POST /route.
func (s *Service) RouteHandler() http.Handler {
	return httpx.Handle(s.cfg.Log, authn.Player(s.cfg.Verifier)(s.handleRoute))
}

// TopologyHandler is GET /topology: public, cacheable for a short while.
func (s *Service) TopologyHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Clients re-read it when they re-probe; a minute of caching keeps
		// a new region's rollout within minutes.
		w.Header().Set("Cache-Control", "public, max-age=60")
		httpx.WriteJSON(w, http.StatusOK, s.cfg.World().Public())
	})
}

func (s *Service) handleRoute(w http.ResponseWriter, r *http.Request) error {
	player := authn.PlayerID(r.Context())
	if ok, retry := s.limiter.Allow(player, time.Now()); !ok {
		return httpx.TooManyRequests(retry)
	}
	var req contract.RouteRequest
	if err := httpx.DecodeJSON(w, r, &req, MaxBodyBytes); err != nil {
		return err
	}
	if err := CheckRequest(req); err != nil {
		return err
	}
	resp := Rank(s.cfg.World(), s.cfg.Health(), req, player)
	if len(resp.Cells) == 0 {
		return &httpx.Error{
			Status: http.StatusServiceUnavailable, Code: httpx.CodeUnavailable,
			Message: "no healthy cell in any measured region", Details: map[string]any{"skipped": resp.Skipped},
			RetryAfter: 5 * time.Second,
		}
	}
	httpx.WriteJSON(w, http.StatusOK, resp)
	return nil
}

// CheckRequest validates a route request's shape.
func CheckRequest(req contract.RouteRequest) error {
	if len(req.LatenciesMs) == 0 {
		return httpx.BadRequest("latencies_ms is required (round trips to each region's beacons)")
	}
	if len(req.LatenciesMs) > MaxRegions || len(req.LossPct) > MaxRegions {
		return httpx.BadRequest("at most %d regions", MaxRegions)
	}
	for id, ms := range req.LatenciesMs {
		if id == "" || len(id) > maxRegionLen {
			return httpx.BadRequest("latencies_ms has a region id that is empty or longer than %d bytes", maxRegionLen)
		}
		if ms < 0 || ms > MaxLatencyMs {
			return httpx.BadRequest("latencies_ms values must be between 0 and %d", MaxLatencyMs)
		}
	}
	for id, loss := range req.LossPct {
		if _, ok := req.LatenciesMs[id]; !ok {
			return httpx.BadRequest("loss_pct names region %q that latencies_ms does not", id)
		}
		if !(loss >= 0 && loss <= 100) {
			return httpx.BadRequest("loss_pct values must be between 0 and 100")
		}
	}
	return nil
}
