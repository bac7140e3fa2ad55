package client_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/atollgg/atoll/contract"
	"github.com/atollgg/atoll/gameserver/arena"
	"github.com/atollgg/atoll/gameserver/arenagame"
	"github.com/atollgg/atoll/gameserver/client"
	"github.com/atollgg/atoll/gameserver/netcode"
	"github.com/atollgg/atoll/internal/dbtest"
	"github.com/atollgg/atoll/stacktest"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

// dropper is an HTTP client whose connections the test can cut, like a
// network that drops.
type dropper struct {
	mu    sync.Mutex // guards conns
	conns []net.Conn
}

func (d *dropper) client() *http.Client {
	return &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		conn, err := (&net.Dialer{}).DialContext(ctx, network, addr)
		if err == nil {
			d.mu.Lock()
			d.conns = append(d.conns, conn)
			d.mu.Unlock()
		}
		return conn, err
	}}}
}

func (d *dropper) cut() {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, c := range d.conns {
		_ = c.Close()
	}
	d.conns = nil
}

// cutAfter is a bot that has its connection cut once, after n inputs.
type cutAfter struct {
	*client.Bot
	n    int
	cut  func()
	once sync.Once
}

func (c *cutAfter) Input(v *netcode.Snapshot, pos arena.Vec2) arena.Input {
	if c.n--; c.n == 0 {
		c.once.Do(c.cut)
	}
	return c.Bot.Input(v, pos)
}

// trigger is a bot that fires on every tick: a fire-rate hack.
type trigger struct{ *client.Bot }

func (b trigger) Input(v *netcode.Snapshot, pos arena.Vec2) arena.Input {
	in := b.Bot.Input(v, pos)
	in.Fire = true
	return in
}

// TestJourneysThroughTheStack walks players through the real stack: guest
// login on the global core, matchmaking on the cell, a real game-server
// process, results recorded by the cell. One player's network drops
// mid-match and it reconnects with a fresh connect token; one cheats and
// its violations land on the cell's telemetry stream.
func TestJourneysThroughTheStack(t *testing.T) {
	const limit = 6 * time.Second
	st := stacktest.StartStack(t, stacktest.StackOptions{Players: 4, GameEnv: []string{"ATOLL_GAME_DURATION=" + limit.String()}})
	ctx, cancel := context.WithTimeout(context.Background(), 2*stacktest.WaitTimeout)
	defer cancel()

	base := client.JourneyConfig{GlobalURL: st.GlobalURL, CellURL: st.CellURL, Mode: stacktest.Mode}
	flaky := &dropper{}
	configs := make([]client.JourneyConfig, 4)
	for i := range configs {
		configs[i] = base
	}
	configs[1].HTTPClient = flaky.client()
	configs[1].NewDriver = func(w netcode.Welcome, id string) (client.Driver, error) {
		b, err := client.NewBot(w.Config, w.Player, 1)
		// Cut the network once, a second into the match.
		return &cutAfter{Bot: b, n: w.Config.TickRate, cut: flaky.cut}, err
	}
	configs[3].NewDriver = func(w netcode.Welcome, id string) (client.Driver, error) {
		b, err := client.NewBot(w.Config, w.Player, 3)
		return trigger{b}, err
	}

	results := make([]client.JourneyResult, len(configs))
	errs := make([]error, len(configs))
	var wg sync.WaitGroup
	for i, cfg := range configs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], errs[i] = client.PlayJourney(ctx, cfg)
		}()
	}
	wg.Wait()

	// The cheater was kicked; everyone else played to the end.
	var kicked *client.CloseError
	if !errors.As(errs[3], &kicked) || kicked.Code != arenagame.CloseKicked {
		t.Fatalf("cheater's journey ended with %v, want a kick", errs[3])
	}
	session := results[0].SessionID
	for i, r := range results[:3] {
		if errs[i] != nil {
			t.Fatalf("player %d: %v", i, errs[i])
		}
		if r.SessionID != session || r.Session.Status != "ended" || r.Session.Results == nil {
			t.Fatalf("player %d: session %s %+v, want the shared session ended with results", i, r.SessionID, r.Session)
		}
		want := 1
		if i == 1 {
			want = 2
		}
		if r.Connections != want || !r.Game.Over {
			t.Errorf("player %d: %d connections (want %d), over=%v", i, r.Connections, want, r.Game.Over)
		}
		// The cell recorded exactly what the player's final snapshot showed.
		mine, ok := r.MyResult()
		me, seated := r.Game.Me()
		if !ok || !seated || mine.Score != int(me.Score) || mine.Kills != int(me.Kills) || mine.Deaths != int(me.Deaths) {
			t.Errorf("player %d: cell result %+v, final snapshot %+v", i, mine, me)
		}
		if mine.TimePlayedS < limit.Seconds()-1.5 {
			t.Errorf("player %d played %.1fs of %v", i, mine.TimePlayedS, limit)
		}
		t.Logf("player %d: login %v, matched in %v, played %v; result %+v; prediction %+v",
			i, r.LoginTook, r.MatchTook, r.PlayTook, mine, r.Game.Prediction)
	}
	if n := len(results[0].Session.Results.Players); n != 4 {
		t.Errorf("%d results, want all 4 players (the kicked one too)", n)
	}

	// The cheater's violations and kick are on the cell's stream.
	cheater := results[3].PlayerID
	seen := map[string]int{}
	for _, m := range st.Telemetry(ctx, t) {
		if m.Sender != contract.SenderServer || m.GameMode != stacktest.Mode {
			t.Errorf("telemetry from %s mode %s, want server %s", m.Sender, m.GameMode, stacktest.Mode)
		}
		for _, e := range m.Events {
			if e.SessionID != session {
				t.Errorf("telemetry for session %s, want %s", e.SessionID, session)
			}
			if e.PlayerID != cheater {
				t.Errorf("an honest player was flagged: %+v", e)
			}
			seen[e.EventType]++
		}
	}
	if seen[arenagame.TelemetryViolation] == 0 || seen[arenagame.TelemetryKick] != 1 {
		t.Errorf("telemetry on the stream: %v, want the cheater's violations and one kick", seen)
	}
}
