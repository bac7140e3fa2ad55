package tokens

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// jwksServer is a stand-in global core whose behaviour tests can swap.
type jwksServer struct {
	*httptest.Server
	hits atomic.Int64

	mu      sync.Mutex // guards following
	handler http.Handler
}

func newJWKSServer(t *testing.T, h http.Handler) *jwksServer {
	s := &jwksServer{handler: h}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.hits.Add(1)
		s.mu.Lock()
		h := s.handler
		s.mu.Unlock()
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *jwksServer) serve(h http.Handler) {
	s.mu.Lock()
	s.handler = h
	s.mu.Unlock()
}

func (s *jwksServer) url() string { return s.URL + JWKSPath }

func status(code int) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(code) })
}

func body(data string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte(data)) })
}

type fakeClock struct {
	mu sync.Mutex // guards following
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func newRemote(t *testing.T, cfg RemoteConfig) *RemoteKeySet {
	t.Helper()
	if cfg.Logger == nil {
		cfg.Logger = testLogger(t)
	}
	r, err := NewRemoteKeySet(cfg)
	if err != nil {
		t.Fatalf("NewRemoteKeySet: %v", err)
	}
	return r
}

// waitRefresh returns the outcome of the next fetch reported on ch.
func waitRefresh(t *testing.T, ch <-chan error) error {
	t.Helper()
	select {
	case err := <-ch:
		return err
	case <-time.After(10 * time.Second):
		t.Fatal("no JWKS fetch within 10s")
		return nil
	}
}

func refreshEvents() (chan error, func(error)) {
	ch := make(chan error, 64)
	return ch, func(err error) {
		select {
		case ch <- err:
		default:
		}
	}
}

func TestRemoteKeySetRun(t *testing.T) {
	ring := NewKeyRing()
	srv := newJWKSServer(t, status(http.StatusServiceUnavailable))
	events, onRefresh := refreshEvents()
	set := newRemote(t, RemoteConfig{URL: srv.url(), RefreshInterval: 20 * time.Millisecond, OnRefresh: onRefresh})
	v := newTestVerifier(t, set, "")
	tok, _, err := newTestIssuer(t, ring).IssueAccess("player-1", t0)
	if err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		set.Run(ctx)
	}()
	t.Cleanup(func() { cancel(); <-done })

	// The global core is down at first: Run fetches at once, fails, retries.
	if err := waitRefresh(t, events); err == nil || !strings.Contains(err.Error(), "503") {
		t.Fatalf("first fetch = %v, want a 503 failure", err)
	}
	srv.serve(ring.JWKSHandler())
	for waitRefresh(t, events) != nil {
		// Failures from before the switch; wait for the first success.
	}
	if _, err := v.VerifyAccess(tok, t0); err != nil {
		t.Fatalf("after Run's fetch: %v", err)
	}
	// And it keeps refreshing.
	before := srv.hits.Load()
	for range 2 {
		if err := waitRefresh(t, events); err != nil {
			t.Fatal(err)
		}
	}
	if srv.hits.Load() < before+2 {
		t.Fatalf("hits %d → %d, want periodic fetches", before, srv.hits.Load())
	}

	cancel()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
}

func TestRemoteKeySetDiskCache(t *testing.T) {
	ring := NewKeyRing()
	srv := newJWKSServer(t, ring.JWKSHandler())
	cache := filepath.Join(t.TempDir(), "cache", "jwks.json")
	tok, _, err := newTestIssuer(t, ring).IssueAccess("player-1", t0)
	if err != nil {
		t.Fatal(err)
	}

	first := newRemote(t, RemoteConfig{URL: srv.url(), CachePath: cache})
	if err := first.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(cache)
	if err != nil || string(data) != string(mustJWKS(t, ring)) {
		t.Fatalf("cache = %s, %v", data, err)
	}
	if m := mode(t, cache); m != 0o600 {
		t.Errorf("cache mode %04o, want 0600", m)
	}

	srv.Close() // the global core goes away

	// The running cell keeps verifying with what it has.
	if err := first.Refresh(context.Background()); err == nil {
		t.Fatal("Refresh succeeded with the server down")
	}
	if _, err := newTestVerifier(t, first, "").VerifyAccess(tok, t0); err != nil {
		t.Fatalf("running cell, core down: %v", err)
	}

	// A restarted cell verifies from the disk cache alone.
	restarted := newRemote(t, RemoteConfig{URL: srv.url(), CachePath: cache})
	hits := srv.hits.Load()
	if _, err := newTestVerifier(t, restarted, "").VerifyAccess(tok, t0); err != nil {
		t.Fatalf("restarted cell, core down: %v", err)
	}
	if srv.hits.Load() != hits {
		t.Fatal("a known kid caused a fetch")
	}
}

func TestRemoteKeySetCorruptCache(t *testing.T) {
	ring := NewKeyRing()
	srv := newJWKSServer(t, ring.JWKSHandler())
	cache := filepath.Join(t.TempDir(), "jwks.json")
	if err := os.WriteFile(cache, []byte(`{"keys":[{"kty":"OKP"`), 0o600); err != nil {
		t.Fatal(err)
	}
	set := newRemote(t, RemoteConfig{URL: srv.url(), CachePath: cache})
	// The broken cache is ignored; the first token fetches.
	if _, err := set.Key(ring.ActiveKID()); err != nil {
		t.Fatal(err)
	}
	if data, _ := os.ReadFile(cache); string(data) != string(mustJWKS(t, ring)) {
		t.Fatalf("cache not rewritten: %s", data)
	}
}

// A token signed with a key the cell has not seen yet (a rotation) makes the
// cell fetch the JWKS once, then verify.
func TestRemoteKeySetUnknownKidRefresh(t *testing.T) {
	ring := NewKeyRing()
	srv := newJWKSServer(t, ring.JWKSHandler())
	set := newRemote(t, RemoteConfig{URL: srv.url()})
	if err := set.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := ring.Rotate(t0); err != nil {
		t.Fatal(err)
	}
	tok, _, err := newTestIssuer(t, ring).IssueAccess("player-1", t0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := newTestVerifier(t, set, "").VerifyAccess(tok, t0); err != nil {
		t.Fatalf("token with the new kid: %v", err)
	}
	if got := srv.hits.Load(); got != 2 {
		t.Fatalf("%d fetches, want 2 (initial + unknown kid)", got)
	}
}

func TestRemoteKeySetRateLimit(t *testing.T) {
	ring := NewKeyRing()
	srv := newJWKSServer(t, ring.JWKSHandler())
	clock := &fakeClock{t: t0}
	const gap = 30 * time.Second
	set := newRemote(t, RemoteConfig{URL: srv.url(), MinRefreshInterval: gap, Now: clock.Now})

	steps := []struct {
		name    string
		advance time.Duration
		kid     string
		want    error
		hits    int64
	}{
		{name: "first unknown kid fetches", kid: "forged-1", want: ErrUnknownKey, hits: 1},
		{name: "known kid never fetches", kid: ring.ActiveKID(), hits: 1},
		{name: "another unknown kid right after", kid: "forged-2", want: ErrUnknownKey, hits: 1},
		{name: "just inside the interval", advance: gap - time.Nanosecond, kid: "forged-3", want: ErrUnknownKey, hits: 1},
		{name: "interval over", advance: time.Nanosecond, kid: "forged-4", want: ErrUnknownKey, hits: 2},
		{name: "limited again", kid: "forged-5", want: ErrUnknownKey, hits: 2},
	}
	for _, st := range steps {
		clock.Advance(st.advance)
		_, err := set.Key(st.kid)
		checkErr(t, err, st.want, "")
		if got := srv.hits.Load(); got != st.hits {
			t.Fatalf("%s: %d fetches, want %d", st.name, got, st.hits)
		}
	}

	// A flood of unknown kids from many requests at once costs one fetch.
	clock.Advance(gap)
	var wg sync.WaitGroup
	for i := range 32 {
		wg.Go(func() {
			if _, err := set.Key("flood-" + strconv.Itoa(i)); !errors.Is(err, ErrUnknownKey) {
				t.Errorf("flood: %v", err)
			}
		})
	}
	wg.Wait()
	if got := srv.hits.Load(); got != 3 {
		t.Fatalf("flood caused %d fetches in total, want 3", got)
	}
}

func TestRemoteKeySetNoKeys(t *testing.T) {
	srv := newJWKSServer(t, status(http.StatusBadGateway))
	set := newRemote(t, RemoteConfig{URL: srv.url()})
	tok, _, err := newTestIssuer(t, NewKeyRing()).IssueAccess("player-1", t0)
	if err != nil {
		t.Fatal(err)
	}
	// A cell that never reached the core is unavailable, not the client's fault.
	_, err = newTestVerifier(t, set, "").VerifyAccess(tok, t0)
	checkErr(t, err, ErrKeysUnavailable, "")
	if errors.Is(err, ErrInvalid) {
		t.Fatalf("%v also wraps ErrInvalid", err)
	}
}

func TestRemoteKeySetBodyLimit(t *testing.T) {
	ring := NewKeyRing()
	jwks := string(mustJWKS(t, ring))
	padded := func(size int) string { return jwks + strings.Repeat(" ", size-len(jwks)) }
	tests := []struct {
		name    string
		handler http.Handler
		ok      bool
	}{
		{"exactly the limit", body(padded(MaxJWKSBytes)), true},
		{"one byte over, with Content-Length", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Length", strconv.Itoa(MaxJWKSBytes+1))
			_, _ = w.Write([]byte(padded(MaxJWKSBytes + 1)))
		}), false},
		{"one byte over, chunked", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			data := padded(MaxJWKSBytes + 1)
			_, _ = w.Write([]byte(data[:100]))
			w.(http.Flusher).Flush()
			_, _ = w.Write([]byte(data[100:]))
		}), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := newJWKSServer(t, tc.handler)
			set := newRemote(t, RemoteConfig{URL: srv.url()})
			err := set.Refresh(context.Background())
			if tc.ok {
				if err != nil {
					t.Fatal(err)
				}
				if _, err := set.Key(ring.ActiveKID()); err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), "limit") {
				t.Fatalf("Refresh = %v, want a body-limit error", err)
			}
		})
	}
}

// Whatever the core answers, a bad answer never replaces good keys.
func TestRemoteKeySetKeepsKeysOnBadAnswers(t *testing.T) {
	ring := NewKeyRing()
	srv := newJWKSServer(t, ring.JWKSHandler())
	events, onRefresh := refreshEvents()
	cache := filepath.Join(t.TempDir(), "jwks.json")
	set := newRemote(t, RemoteConfig{URL: srv.url(), CachePath: cache, OnRefresh: onRefresh})
	if err := set.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := waitRefresh(t, events); err != nil {
		t.Fatal(err)
	}
	good, _ := os.ReadFile(cache)
	tests := []struct {
		name    string
		handler http.Handler
		reason  string
	}{
		{"server error", status(http.StatusInternalServerError), "500"},
		{"not found", status(http.StatusNotFound), "404"},
		{"HTML", body("<html>maintenance</html>"), "parse JWKS"},
		{"empty set", body(`{"keys":[]}`), "no usable"},
		{"private keys", body(`{"keys":[{"kty":"OKP","crv":"Ed25519","kid":"k","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo","d":"nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A"}]}`), "private key material"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv.serve(tc.handler)
			err := set.Refresh(context.Background())
			if err == nil || !strings.Contains(err.Error(), tc.reason) {
				t.Fatalf("Refresh = %v, want error mentioning %q", err, tc.reason)
			}
			if got := waitRefresh(t, events); got == nil {
				t.Fatal("OnRefresh reported success")
			}
			if _, err := set.Key(ring.ActiveKID()); err != nil {
				t.Fatalf("keys lost: %v", err)
			}
			if data, _ := os.ReadFile(cache); string(data) != string(good) {
				t.Fatalf("cache overwritten with %s", data)
			}
		})
	}
}

func TestRemoteKeySetRefreshHonoursContext(t *testing.T) {
	release := make(chan struct{})
	srv := newJWKSServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(func() { close(release) })
	set := newRemote(t, RemoteConfig{URL: srv.url()})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := set.Refresh(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Refresh against a hanging server = %v, want a deadline error", err)
	}
}

func TestNewRemoteKeySetConfig(t *testing.T) {
	tests := []struct {
		name string
		cfg  RemoteConfig
	}{
		{"no URL", RemoteConfig{}},
		{"relative URL", RemoteConfig{URL: "/.well-known/jwks.json"}},
		{"other scheme", RemoteConfig{URL: "file:///etc/jwks.json"}},
		{"unparsable", RemoteConfig{URL: "http://[::1"}},
		{"negative refresh", RemoteConfig{URL: "https://auth.atoll.test/jwks", RefreshInterval: -time.Second}},
		{"negative rate limit", RemoteConfig{URL: "https://auth.atoll.test/jwks", MinRefreshInterval: -time.Second}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := NewRemoteKeySet(tc.cfg); err == nil {
				t.Fatal("NewRemoteKeySet succeeded")
			}
		})
	}
}

func TestJitter(t *testing.T) {
	for _, d := range []time.Duration{0, time.Nanosecond, 20 * time.Millisecond, DefaultRefreshInterval} {
		lo := d - time.Duration(float64(d)*refreshJitter)
		hi := d + time.Duration(float64(d)*refreshJitter)
		for range 100 {
			if got := jitter(d); got < lo || got > hi {
				t.Fatalf("jitter(%v) = %v, want within [%v, %v]", d, got, lo, hi)
			}
		}
	}
}
