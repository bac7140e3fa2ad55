package arenagame_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/atollgg/atoll/gameserver/arena"
	"github.com/atollgg/atoll/gameserver/arenagame"
	"github.com/atollgg/atoll/gameserver/client"
	"github.com/atollgg/atoll/gameserver/netcode"
	"github.com/atollgg/atoll/stacktest"
)

// cutter dials TCP connections it can cut, like a network that drops.
type cutter struct {
	mu    sync.Mutex // guards conns
	conns []net.Conn
}

func (c *cutter) httpClient() *http.Client {
	return &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		conn, err := (&net.Dialer{}).DialContext(ctx, network, addr)
		if err == nil {
			c.mu.Lock()
			c.conns = append(c.conns, conn)
			c.mu.Unlock()
		}
		return conn, err
	}}}
}

// cut drops every connection at once, without a closing handshake.
func (c *cutter) cut() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, conn := range c.conns {
		_ = conn.Close()
	}
	c.conns = nil
}

// watcher is a bot driver that exposes its newest view to the test.
type watcher struct {
	*client.Bot
	inputs atomic.Int64
	mu     sync.Mutex // guards view
	view   netcode.Snapshot
}

func (w *watcher) Input(v *netcode.Snapshot, pos arena.Vec2) arena.Input {
	w.mu.Lock()
	w.view.CopyFrom(v)
	w.mu.Unlock()
	w.inputs.Add(1)
	return w.Bot.Input(v, pos)
}

func (w *watcher) seated(id arena.PlayerID) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	_, ok := w.view.Player(id)
	return ok
}

// playWatched dials and plays player p with a watcher driver.
func playWatched(ctx context.Context, url, token string, opts client.Options, seed uint64, onSeat func(*watcher)) (client.Result, error) {
	conn, err := client.Dial(ctx, url, token, opts)
	if err != nil {
		return client.Result{}, err
	}
	w := conn.Welcome()
	b, err := client.NewBot(w.Config, w.Player, seed)
	if err != nil {
		return client.Result{}, err
	}
	d := &watcher{Bot: b}
	if onSeat != nil {
		onSeat(d)
	}
	return conn.Play(ctx, d)
}

// waitUntil polls cond every few milliseconds: for state only visible in
// a player's view, which no event announces to the test.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(stacktest.WaitTimeout)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		<-tick.C
	}
}

func TestReconnect(t *testing.T) {
	const limit = 6 * time.Second
	cases := []struct {
		name  string
		grace time.Duration
		// waitOut, when set, makes the dropped player stay away until the
		// others no longer see its seat (the grace ran out).
		waitOut bool
	}{
		{name: "within the grace resumes the seat", grace: 30 * time.Second},
		{name: "after the grace starts afresh", grace: 300 * time.Millisecond, waitOut: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			game := arenagame.Config{Arena: smallArena(limit)}
			game.Arena.ReconnectGrace = tc.grace
			env := stacktest.Start(t, stacktest.Options{Game: game})
			session, alloc := env.Allocate(t, "stays", "drops")
			url := stacktest.URL(alloc)
			ctx, cancel := context.WithTimeout(context.Background(), stacktest.WaitTimeout)
			defer cancel()

			stayer := make(chan *watcher, 1)
			stayed := make(chan error, 1)
			go func() {
				res, err := playWatched(ctx, url, env.Token(t, alloc, "stays"), client.Options{}, 1, func(w *watcher) { stayer <- w })
				if err == nil && !res.Over {
					err = errors.New("match not over")
				}
				stayed <- err
			}()

			// Play a second, then lose the network.
			link := &cutter{}
			var first client.Result
			firstDone := make(chan error, 1)
			dropper := make(chan *watcher, 1)
			go func() {
				var err error
				first, err = playWatched(ctx, url, env.Token(t, alloc, "drops"), client.Options{HTTPClient: link.httpClient()}, 2,
					func(w *watcher) { dropper <- w })
				firstDone <- err
			}()
			d := <-dropper
			waitUntil(t, "a second of play", func() bool { return d.inputs.Load() >= 30 })
			link.cut()
			if err := <-firstDone; err == nil {
				t.Fatal("play survived a cut connection")
			}
			seat := first.Self
			if tc.waitOut {
				s := <-stayer
				waitUntil(t, "the dropped seat to be released", func() bool { return !s.seated(seat) })
			}

			// Come back with a fresh token on a new connection.
			second, err := playWatched(ctx, url, env.Token(t, alloc, "drops"), client.Options{}, 3, nil)
			if err != nil || !second.Over {
				t.Fatalf("reconnected play: over=%v err=%v", second.Over, err)
			}
			rejoined := second.Self
			if err := <-stayed; err != nil {
				t.Fatalf("the other player: %v", err)
			}
			before, _ := first.Me()
			after, _ := second.Me()
			ev := env.SessionEnd(t, session)
			if ev.Results == nil {
				t.Fatalf("no results: %+v", ev)
			}
			played := -1.0
			for _, r := range ev.Results.Players {
				if r.PlayerID != "drops" {
					continue
				}
				played = r.TimePlayedS
				// A seat kept within the grace carries its score on; a
				// fresh seat restarts from zero and the results add both.
				want := int(after.Score)
				if tc.waitOut {
					want += int(before.Score)
				}
				if r.Score != want {
					t.Errorf("result score %d; before the drop %d, final seat %d", r.Score, before.Score, after.Score)
				}
			}
			if played < 0 {
				t.Fatalf("no result for the dropped player: %+v", ev.Results.Players)
			}
			if tc.waitOut {
				// Both stints count, the time away does not.
				if played > limit.Seconds()-tc.grace.Seconds() {
					t.Errorf("played %.2fs of %v after a gap longer than %v", played, limit, tc.grace)
				}
				return
			}
			// Within the grace: the same seat, and the stats and the time
			// played went on from where they were.
			if rejoined != seat {
				t.Errorf("reconnected to seat %d, had seat %d", rejoined, seat)
			}
			if after.Score < before.Score || after.Kills < before.Kills || after.Deaths < before.Deaths {
				t.Errorf("stats went back: before %+v, after %+v", before, after)
			}
			if played < limit.Seconds()-1 {
				t.Errorf("played %.2fs of %v: the first stint was lost", played, limit)
			}
		})
	}
}
