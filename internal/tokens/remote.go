package tokens

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/singleflight"
)

// DefaultRefreshInterval is how often a RemoteKeySet re-fetches the JWKS: the
// global core's cache lifetime, since fetching sooner would only re-read what
// caches may legitimately serve, and later would keep pruned keys accepted
// longer.
const DefaultRefreshInterval = JWKSMaxAge

// DefaultMinRefreshInterval is the least time between two fetches triggered
// by tokens naming an unknown kid. A freshly rotated key is fetched on the
// first token that uses it, while a flood of forged kids costs the global
// core at most one request per cell per interval.
const DefaultMinRefreshInterval = 10 * time.Second

// RetryInterval is how soon Run tries again after a failed fetch (or after
// the refresh interval, if shorter): a cell that started while the global
// core was down gets keys soon after the core returns, without hammering it.
const RetryInterval = 15 * time.Second

// FetchTimeout bounds one JWKS fetch, connection to last byte, whatever the
// http.Client: a request that triggered an unknown-kid refresh waits at most
// this long, and the JWKS is a small document served from memory.
const FetchTimeout = 5 * time.Second

// refreshJitter spreads periodic fetches by ±10% so many cells restarted
// together do not keep fetching in lockstep.
const refreshJitter = 0.1

// RemoteConfig configures a RemoteKeySet.
type RemoteConfig struct {
	// URL is the JWKS to fetch (http or https). Required.
	URL string
	// Client makes the requests; zero means a client with FetchTimeout.
	Client *http.Client
	// CachePath is a file the last good JWKS is kept in (0600), read at
	// start so a cell restarted while the global core is down still verifies
	// tokens; zero means no disk cache.
	CachePath string
	// RefreshInterval is the period of Run's fetches; zero means
	// DefaultRefreshInterval.
	RefreshInterval time.Duration
	// MinRefreshInterval rate-limits fetches triggered by unknown kids; zero
	// means DefaultMinRefreshInterval.
	MinRefreshInterval time.Duration
	// Now is the clock of that rate limit; zero means time.Now.
	Now func() time.Time
	// Logger receives fetch failures; zero means slog.Default().
	Logger *slog.Logger
	// OnRefresh is called after every fetch attempt with its outcome, on the
	// goroutine that made it (for metrics); zero means no call.
	OnRefresh func(err error)
}

// RemoteKeySet is a KeySource that keeps a local copy of a JWKS fetched over
// HTTP: from disk at start, then refreshed periodically by Run and on demand
// when a token names an unknown kid. When the JWKS cannot be fetched it keeps
// serving the keys it has. It is safe for concurrent use.
type RemoteKeySet struct {
	url     string
	client  *http.Client
	cache   string
	every   time.Duration
	minGap  time.Duration
	now     func() time.Time
	log     *slog.Logger
	notify  func(error)
	current atomic.Pointer[remoteKeys] // nil until keys are known
	fetches singleflight.Group

	mu           sync.Mutex // guards following
	lastOnDemand time.Time  // start of the last unknown-kid fetch
	cachedRaw    []byte     // what CachePath holds
}

type remoteKeys struct {
	keys StaticKeys
	raw  []byte
}

// NewRemoteKeySet checks cfg and loads the disk cache if there is one. It does
// not fetch: Run does, and so does the first lookup of an unknown kid. A
// missing or unreadable cache is logged, not fatal: the global core may be up.
func NewRemoteKeySet(cfg RemoteConfig) (*RemoteKeySet, error) {
	u, err := url.Parse(cfg.URL)
	if err != nil {
		return nil, fmt.Errorf("new remote key set: bad URL: %w", err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("new remote key set: URL %q is not an absolute http(s) URL", cfg.URL)
	}
	if cfg.RefreshInterval < 0 || cfg.MinRefreshInterval < 0 {
		return nil, errors.New("new remote key set: negative interval")
	}
	r := &RemoteKeySet{
		url:    cfg.URL,
		client: cfg.Client,
		cache:  cfg.CachePath,
		every:  cfg.RefreshInterval,
		minGap: cfg.MinRefreshInterval,
		now:    cfg.Now,
		log:    cfg.Logger,
		notify: cfg.OnRefresh,
	}
	if r.client == nil {
		r.client = &http.Client{Timeout: FetchTimeout}
	}
	if r.every == 0 {
		r.every = DefaultRefreshInterval
	}
	if r.minGap == 0 {
		r.minGap = DefaultMinRefreshInterval
	}
	if r.now == nil {
		r.now = time.Now
	}
	if r.log == nil {
		r.log = slog.Default()
	}
	if r.cache != "" {
		r.loadCache()
	}
	return r, nil
}

func (r *RemoteKeySet) loadCache() {
	data, err := readLimited(r.cache, MaxJWKSBytes)
	if errors.Is(err, fs.ErrNotExist) {
		return
	}
	var keys StaticKeys
	if err == nil {
		keys, err = ParseJWKS(data)
	}
	if err != nil {
		r.log.Warn("ignoring unusable JWKS cache", "path", r.cache, "err", err)
		return
	}
	r.current.Store(&remoteKeys{keys: keys, raw: data})
	r.cachedRaw = data
}

// Key implements KeySource. An unknown kid triggers a fetch, at most once per
// MinRefreshInterval across all callers; otherwise the cached set answers.
func (r *RemoteKeySet) Key(kid string) (ed25519.PublicKey, error) {
	if k, ok := r.lookup(kid); ok {
		return k, nil
	}
	if r.allowOnDemand() {
		ctx, cancel := context.WithTimeout(context.Background(), FetchTimeout)
		_ = r.Refresh(ctx) // logged and reported by fetch; the cached set still answers
		cancel()
		if k, ok := r.lookup(kid); ok {
			return k, nil
		}
	}
	if r.current.Load() == nil {
		return nil, ErrKeysUnavailable
	}
	return nil, ErrUnknownKey
}

func (r *RemoteKeySet) lookup(kid string) (ed25519.PublicKey, bool) {
	cur := r.current.Load()
	if cur == nil {
		return nil, false
	}
	k, ok := cur.keys[kid]
	return k, ok
}

func (r *RemoteKeySet) allowOnDemand() bool {
	now := r.now()
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.lastOnDemand.IsZero() && now.Sub(r.lastOnDemand) < r.minGap {
		return false
	}
	r.lastOnDemand = now
	return true
}

// Refresh fetches the JWKS now and, if it parses and holds a usable key,
// replaces the cached set and the disk cache. Concurrent calls share one
// fetch. On error the previous set stays in use.
func (r *RemoteKeySet) Refresh(ctx context.Context) error {
	_, err, _ := r.fetches.Do("jwks", func() (any, error) {
		return nil, r.fetch(ctx)
	})
	return err
}

func (r *RemoteKeySet) fetch(ctx context.Context) error {
	data, err := r.get(ctx)
	var keys StaticKeys
	if err == nil {
		keys, err = ParseJWKS(data)
	}
	if err != nil {
		err = fmt.Errorf("refresh JWKS from %s: %w", r.url, err)
		r.log.Warn("JWKS refresh failed; keeping cached keys", "err", err)
	} else {
		r.current.Store(&remoteKeys{keys: keys, raw: data})
		r.writeCache(data)
	}
	if r.notify != nil {
		r.notify(err)
	}
	return err
}

func (r *RemoteKeySet) get(ctx context.Context) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, FetchTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.url, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := r.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("unexpected status %s", resp.Status)
	}
	if resp.ContentLength > MaxJWKSBytes {
		return nil, fmt.Errorf("body of %d bytes exceeds the %d-byte limit", resp.ContentLength, MaxJWKSBytes)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, MaxJWKSBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read body: %w", err)
	}
	if len(data) > MaxJWKSBytes {
		return nil, fmt.Errorf("body exceeds the %d-byte limit", MaxJWKSBytes)
	}
	return data, nil
}

// writeCache keeps data on disk unless it is already there. A failure is
// logged and retried on the next fetch: the keys in memory are good.
func (r *RemoteKeySet) writeCache(data []byte) {
	if r.cache == "" {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if bytes.Equal(r.cachedRaw, data) {
		return
	}
	err := os.MkdirAll(filepath.Dir(r.cache), 0o700)
	if err == nil {
		err = writeFileAtomic(r.cache, data)
	}
	if err != nil {
		r.log.Warn("cannot write JWKS cache", "path", r.cache, "err", err)
		return
	}
	r.cachedRaw = data
}

// Run fetches the JWKS at once and then every refresh interval (sooner after
// a failure) until ctx is done, then returns. Call it once, from the
// goroutine that owns the key set's lifetime.
func (r *RemoteKeySet) Run(ctx context.Context) {
	for {
		wait := r.every
		if err := r.Refresh(ctx); err != nil {
			wait = min(wait, RetryInterval)
		}
		t := time.NewTimer(jitter(wait))
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

func jitter(d time.Duration) time.Duration {
	span := int64(float64(d) * 2 * refreshJitter)
	if span <= 0 {
		return d
	}
	return d - time.Duration(span/2) + time.Duration(rand.Int64N(span))
}

// readLimited reads a file of at most limit bytes.
func readLimited(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%s is larger than %d bytes", path, limit)
	}
	return data, nil
}
