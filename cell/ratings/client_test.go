package ratings_test

import (
	"context"
	"net"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"testing"
	"time"

	"github.com/atollgg/atoll/cell/ratings"
	"github.com/atollgg/atoll/global/globaltest"
	"github.com/atollgg/atoll/internal/dbtest"
	"github.com/atollgg/atoll/internal/obs"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

// clock is a settable test clock.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func TestRatingsFromCoreCachedAndDefaulted(t *testing.T) {
	core := globaltest.Start(t)
	a, b := core.Guest(t), core.Guest(t)
	ctx := context.Background()
	if _, err := core.DB.Pool.Exec(ctx, `INSERT INTO ratings (player_id, mode, rating) VALUES ($1, 'duel', 1800)`, a.ID); err != nil {
		t.Fatal(err)
	}
	// The cell reaches the core through a proxy the test can take down.
	target, err := url.Parse(core.URL)
	if err != nil {
		t.Fatal(err)
	}
	link := httptest.NewServer(httputil.NewSingleHostReverseProxy(target))
	defer link.Close()
	clk := &clock{t: time.Now()}
	c, err := ratings.New(ratings.Config{GlobalURL: link.URL, ServiceToken: globaltest.CellToken, Log: obs.Discard(), Now: clk.now})
	if err != nil {
		t.Fatal(err)
	}
	got := c.Ratings(ctx, "duel", []string{a.ID, b.ID, a.ID})
	if got[a.ID] != 1800 || got[b.ID] != ratings.DefaultRating || len(got) != 2 {
		t.Fatalf("ratings %v", got)
	}

	// A change in the core is not seen while the cached value is fresh…
	if _, err := core.DB.Pool.Exec(ctx, `UPDATE ratings SET rating = 1900 WHERE player_id = $1`, a.ID); err != nil {
		t.Fatal(err)
	}
	if got := c.Ratings(ctx, "duel", []string{a.ID}); got[a.ID] != 1800 {
		t.Fatalf("fresh cache not used: %v", got)
	}
	// …and is once it expires.
	clk.t = clk.t.Add(ratings.DefaultTTL)
	if got := c.Ratings(ctx, "duel", []string{a.ID}); got[a.ID] != 1900 {
		t.Fatalf("expired cache not refreshed: %v", got)
	}

	// With the core gone, stale cached ratings and defaults stand in.
	link.Close()
	clk.t = clk.t.Add(ratings.DefaultTTL)
	got = c.Ratings(ctx, "duel", []string{a.ID, "never-seen"})
	if got[a.ID] != 1900 || got["never-seen"] != ratings.DefaultRating {
		t.Fatalf("core down: %v", got)
	}
}

func TestRatingsWithoutCoreOrCredential(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now: connections are refused
	for _, cfg := range []ratings.Config{
		{GlobalURL: "http://" + addr, ServiceToken: globaltest.CellToken, Default: 1000, Log: obs.Discard()},
		{GlobalURL: "http://" + addr, Default: 1000, Log: obs.Discard()},
	} {
		c, err := ratings.New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		if got := c.Ratings(context.Background(), "duel", []string{"p"}); got["p"] != 1000 {
			t.Fatalf("ratings %v, want the configured default", got)
		}
	}
	if _, err := ratings.New(ratings.Config{GlobalURL: "not a url"}); err == nil {
		t.Fatal("bad URL accepted")
	}
}

func TestWrongCredentialFallsBackToDefault(t *testing.T) {
	core := globaltest.Start(t)
	a := core.Guest(t)
	if _, err := core.DB.Pool.Exec(context.Background(), `INSERT INTO ratings (player_id, mode, rating) VALUES ($1, 'duel', 1800)`, a.ID); err != nil {
		t.Fatal(err)
	}
	c, err := ratings.New(ratings.Config{GlobalURL: core.URL, ServiceToken: "not-the-cell-token-at-all", Log: obs.Discard()})
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Ratings(context.Background(), "duel", []string{a.ID}); got[a.ID] != ratings.DefaultRating {
		t.Fatalf("refused credential gave %v", got)
	}
}
