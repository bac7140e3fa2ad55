// Package ratings owns a cell's view of players' per-mode ratings: fetched
// from the global core with the cell's service credential, cached, and
// defaulted when absent or when the core is unreachable.
package ratings

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/atollgg/atoll/contract"
)

// Defaults and limits of the client.
const (
	// DefaultRating is a player's rating in a mode the global core has no
	// rating for: the conventional Elo starting point.
	DefaultRating = 1500
	// DefaultTTL is how long a fetched rating is used without asking again.
	// Ratings change only when a match's results reach the core, so a few
	// minutes of staleness shifts a window by a game at most.
	DefaultTTL = 5 * time.Minute
	// FetchTimeout bounds one request to the core: a join waits for it, so a
	// core slower than this is treated as unreachable.
	FetchTimeout = time.Second
	// FailureBackoff is how long the client stops asking after a failed
	// request, so that while the core is down joins cost no timeout.
	FailureBackoff = 5 * time.Second
	// MaxCacheEntries bounds the cache: a busy cell sees some tens of
	// thousands of players per TTL in a few modes.
	MaxCacheEntries = 200_000
	// maxResponseBytes bounds the core's answer: 100 ratings are ~10 KiB.
	maxResponseBytes = 256 << 10
	// batchSize is the core's limit of players per request.
	batchSize = contract.MaxRatingsPerRequest
	// ratingsPath is the core's read endpoint.
	ratingsPath = contract.RatingsPath
)

// Config configures a Client.
type Config struct {
	// GlobalURL is the global core's base URL. Required.
	GlobalURL string
	// ServiceToken is the cell's service credential. Empty means the client
	// never asks the core and every player has the default rating.
	ServiceToken string
	// Default is the rating of players the core has none for; zero means
	// DefaultRating.
	Default float64
	// TTL is how long fetched ratings are fresh; zero means DefaultTTL.
	TTL time.Duration
	// HTTPClient makes the requests; nil means a client with FetchTimeout.
	HTTPClient *http.Client
	// Log receives fetch failures; nil means slog.Default().
	Log *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Client fetches and caches ratings. It is safe for concurrent use.
type Client struct {
	cfg  Config
	base *url.URL

	mu         sync.Mutex // guards following
	cache      map[cacheKey]cached
	retryAfter time.Time // no requests before this, after a failure
}

type cacheKey struct{ mode, player string }

type cached struct {
	rating  float64
	fetched time.Time
}

// New checks cfg and returns a Client.
func New(cfg Config) (*Client, error) {
	u, err := url.Parse(cfg.GlobalURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("ratings client: global URL %q is not an absolute http(s) URL", cfg.GlobalURL)
	}
	if cfg.Default == 0 {
		cfg.Default = DefaultRating
	}
	if cfg.TTL == 0 {
		cfg.TTL = DefaultTTL
	}
	if cfg.TTL < 0 {
		return nil, errors.New("ratings client: negative TTL")
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: FetchTimeout}
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	u.Path = strings.TrimRight(u.Path, "/") + ratingsPath
	return &Client{cfg: cfg, base: u, cache: map[cacheKey]cached{}}, nil
}

// Default is the rating of players without one.
func (c *Client) Default() float64 { return c.cfg.Default }

// Ratings returns the rating of each player in mode. It never fails: fresh
// cached ratings answer first, the core is asked for the rest, and when it
// cannot answer a stale cached rating or the default stands in.
func (c *Client) Ratings(ctx context.Context, mode string, playerIDs []string) map[string]float64 {
	now := c.cfg.Now()
	out := make(map[string]float64, len(playerIDs))
	var missing []string
	c.mu.Lock()
	for _, id := range playerIDs {
		if e, ok := c.cache[cacheKey{mode, id}]; ok && now.Sub(e.fetched) < c.cfg.TTL {
			out[id] = e.rating
			continue
		}
		if !slices.Contains(missing, id) { // parties are small: a scan beats a set
			missing = append(missing, id)
		}
	}
	skip := c.cfg.ServiceToken == "" || now.Before(c.retryAfter)
	c.mu.Unlock()

	if len(missing) > 0 && !skip {
		fetched, err := c.fetch(ctx, mode, missing)
		c.mu.Lock()
		if err != nil {
			c.retryAfter = now.Add(FailureBackoff)
			c.cfg.Log.Warn("ratings unavailable from the global core; using cached or default ratings", "mode", mode, "err", err)
		} else {
			c.makeRoom(now, len(missing))
			for _, id := range missing {
				r, ok := fetched[id]
				if !ok {
					r = c.cfg.Default
				}
				c.cache[cacheKey{mode, id}] = cached{rating: r, fetched: now}
			}
		}
		c.mu.Unlock()
	}

	c.mu.Lock()
	defer c.mu.Unlock()
	for _, id := range missing {
		if e, ok := c.cache[cacheKey{mode, id}]; ok {
			out[id] = e.rating // fresh, or stale when the core failed
		} else {
			out[id] = c.cfg.Default
		}
	}
	return out
}

// makeRoom keeps the cache under MaxCacheEntries: expired entries go first,
// then arbitrary ones. Callers hold c.mu.
func (c *Client) makeRoom(now time.Time, n int) {
	if len(c.cache)+n <= MaxCacheEntries {
		return
	}
	for k, e := range c.cache {
		if now.Sub(e.fetched) >= c.cfg.TTL {
			delete(c.cache, k)
		}
	}
	for k := range c.cache {
		if len(c.cache)+n <= MaxCacheEntries {
			break
		}
		delete(c.cache, k)
	}
}

func (c *Client) fetch(ctx context.Context, mode string, ids []string) (map[string]float64, error) {
	out := make(map[string]float64, len(ids))
	for start := 0; start < len(ids); start += batchSize {
		if err := c.fetchBatch(ctx, mode, ids[start:min(start+batchSize, len(ids))], out); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (c *Client) fetchBatch(ctx context.Context, mode string, ids []string, out map[string]float64) error {
	ctx, cancel := context.WithTimeout(ctx, FetchTimeout)
	defer cancel()
	u := *c.base
	u.RawQuery = url.Values{"mode": {mode}, "player_id": ids}.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return fmt.Errorf("fetch ratings: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+c.cfg.ServiceToken)
	req.Header.Set("Accept", "application/json")
	resp, err := c.cfg.HTTPClient.Do(req)
	if err != nil {
		return fmt.Errorf("fetch ratings: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes+1))
	if err != nil {
		return fmt.Errorf("fetch ratings: read body: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("fetch ratings: global core answered %s", resp.Status)
	}
	if len(body) > maxResponseBytes {
		return fmt.Errorf("fetch ratings: answer larger than %d bytes", maxResponseBytes)
	}
	var r contract.RatingsResponse
	if err := json.Unmarshal(body, &r); err != nil {
		return fmt.Errorf("fetch ratings: decode answer: %w", err)
	}
	for _, rt := range r.Ratings {
		out[rt.PlayerID] = rt.Rating
	}
	return nil
}
