package fleet

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"syscall"
	"testing"
	"time"

	gameserver "github.com/atollgg/atoll/gameserver/server"
	"github.com/atollgg/atoll/internal/tokens"
	"github.com/coder/websocket"
	"github.com/prometheus/client_golang/prometheus"
)

func TestWarmBufferFills(t *testing.T) {
	env := newTestEnv(t)
	cfg := env.config(t)
	cfg.Buffer = 2
	f := startFleet(t, cfg)

	ready := waitReady(t, f, 2)
	ports := map[int]bool{}
	for _, s := range ready {
		if s.PID <= 0 {
			t.Fatalf("server %s has no pid", s.ID)
		}
		// Its own process group: signals to the cell never reach it.
		if pgid, err := syscall.Getpgid(s.PID); err != nil || pgid != s.PID {
			t.Errorf("server %s: pgid %d (%v), want its own group %d", s.ID, pgid, err, s.PID)
		}
		if ports[s.Port] || s.Port < cfg.PortMin || s.Port > cfg.PortMax {
			t.Errorf("server %s: port %d reused or outside %d-%d", s.ID, s.Port, cfg.PortMin, cfg.PortMax)
		}
		ports[s.Port] = true
		// The state a restarted cell needs is in the KV.
		var rec record
		waitFor(t, "server "+s.ID+" Ready in the KV", func() bool {
			e, err := env.kv.Get(context.Background(), serverKey(s.ID))
			return err == nil && json.Unmarshal(e.Value(), &rec) == nil && rec.State == StateReady
		})
		if rec.Proc.PID != s.PID || rec.Port != s.Port || len(rec.SecretHash) != 32 {
			t.Errorf("KV record of %s: %+v", s.ID, rec)
		}
	}
	// The buffer is exactly filled, not overfilled.
	if n := len(f.Servers()); n != 2 {
		t.Errorf("fleet runs %d servers, want 2", n)
	}
}

func TestAllocateValidatesAndIsIdempotent(t *testing.T) {
	env := newTestEnv(t)
	cfg := env.config(t)
	cfg.Max = 1
	// Nobody joins the match; the server gives up soon after the test.
	cfg.Env = append(cfg.Env, gameserver.EnvGameJoinTimeout+"=2s")
	reg := prometheus.NewRegistry()
	cfg.Registry = reg
	f := startFleet(t, cfg)
	waitReady(t, f, 1)
	ctx := context.Background()

	for _, m := range []Match{
		{SessionID: "", Players: []Player{{ID: "a"}}},
		{SessionID: "s", Players: nil},
		{SessionID: "s", Players: []Player{{ID: "a"}, {ID: "a"}}},
		{SessionID: "has space", Players: []Player{{ID: "a"}}},
	} {
		if _, err := f.Allocate(ctx, m); !errors.Is(err, ErrInvalidMatch) {
			t.Errorf("Allocate(%+v) = %v, want ErrInvalidMatch", m, err)
		}
	}
	a, err := f.Allocate(ctx, testMatch("s1", "p1"))
	if err != nil {
		t.Fatalf("allocate: %v", err)
	}
	if a.SessionID != "s1" || a.ServerID == "" || a.Port == 0 || a.Host != DefaultHost {
		t.Fatalf("allocation %+v", a)
	}
	again, err := f.Allocate(ctx, testMatch("s1", "p1"))
	if err != nil || again != a {
		t.Fatalf("allocating s1 again = %+v, %v; want %+v", again, err, a)
	}
	// Max is 1: nothing left for another session.
	if _, err := f.Allocate(ctx, testMatch("s2", "p2")); !errors.Is(err, ErrNoCapacity) {
		t.Fatalf("second session: %v, want ErrNoCapacity", err)
	}
	for _, tc := range []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"atoll_fleet_allocations_total", map[string]string{"result": "ok"}, 2},
		{"atoll_fleet_allocations_total", map[string]string{"result": "no_capacity"}, 1},
		{"atoll_fleet_allocations_total", map[string]string{"result": "invalid"}, 4},
		{"atoll_fleet_servers", map[string]string{"state": "Allocated"}, 1},
		{"atoll_fleet_servers", map[string]string{"state": "Ready"}, 0},
	} {
		if got := metricValue(t, reg, tc.name, tc.labels); got != tc.want {
			t.Errorf("%s%v = %v, want %v", tc.name, tc.labels, got, tc.want)
		}
	}
}

// metricValue reads one counter or gauge from reg.
func metricValue(t *testing.T, reg *prometheus.Registry, name string, labels map[string]string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	metrics:
		for _, m := range mf.GetMetric() {
			for _, lp := range m.GetLabel() {
				if labels[lp.GetName()] != lp.GetValue() {
					continue metrics
				}
			}
			if m.Counter != nil {
				return m.Counter.GetValue()
			}
			return m.Gauge.GetValue()
		}
	}
	t.Fatalf("metric %s%v not found", name, labels)
	return 0
}

func TestMatchIsPlayedAndResultsReported(t *testing.T) {
	env := newTestEnv(t)
	f := startFleet(t, env.config(t))
	waitReady(t, f, 1)
	ctx := context.Background()

	m := testMatch("session-1", "alice", "bob")
	a, err := f.Allocate(ctx, m)
	if err != nil {
		t.Fatalf("allocate: %v", err)
	}
	now := time.Now()
	otherRing := tokens.NewKeyRing()
	forged, err := otherRing.Sign(tokens.NewConnectClaims(testIssuer, a.ServerID, m.SessionID, "alice", now, 0))
	if err != nil {
		t.Fatal(err)
	}
	refused := []struct {
		name   string
		token  string
		code   websocket.StatusCode
		reason string
	}{
		{"garbage", "not-a-token", gameserver.CloseUnauthorized, "invalid_token"},
		{"forged", forged, gameserver.CloseUnauthorized, "invalid_token"},
		{"expired", env.token(t, a.ServerID, m.SessionID, "alice", now.Add(-5*time.Minute)), gameserver.CloseUnauthorized, "token_expired"},
		{"other server", env.token(t, "another-server", m.SessionID, "alice", now), gameserver.CloseUnauthorized, "invalid_token"},
		{"other session", env.token(t, a.ServerID, "session-2", "alice", now), gameserver.CloseForbidden, "wrong_session"},
		{"not in match", env.token(t, a.ServerID, m.SessionID, "mallory", now), gameserver.CloseForbidden, "not_in_match"},
	}
	for _, tc := range refused {
		t.Run("refuses "+tc.name, func(t *testing.T) {
			dial(t, a, tc.token).expectClose(tc.code, tc.reason)
		})
	}

	alice := dial(t, a, env.token(t, a.ServerID, m.SessionID, "alice", now))
	if w := alice.expect("welcome"); w.PlayerID != "alice" || w.SessionID != m.SessionID {
		t.Fatalf("welcome %+v", w)
	}
	bob := dial(t, a, env.token(t, a.ServerID, m.SessionID, "bob", now))
	bob.expect("welcome")
	alice.expect("start")
	bob.expect("start")
	alice.tap(5)
	bob.tap(2)
	for _, p := range []*player{alice, bob} {
		p.expect("end")
		p.expectClose(gameserver.CloseGameOver, "game_over")
	}

	ended := nextEvent(t, f, EventSessionEnded, m.SessionID)
	if ended.ServerID != a.ServerID || !slices.Equal(playerIDs(ended), []string{"alice", "bob"}) {
		t.Fatalf("ended event %+v", ended)
	}
	r := ended.Results
	if r == nil || r.SessionID != m.SessionID || r.Mode != "duel" || !r.EndedAt.After(r.StartedAt) || len(r.Players) != 2 {
		t.Fatalf("results %+v", r)
	}
	want := []PlayerResult{
		{PlayerID: "alice", Team: 1, Score: 5, Placement: 1},
		{PlayerID: "bob", Team: 2, Score: 2, Placement: 2},
	}
	for i, w := range want {
		got := r.Players[i]
		if got.PlayerID != w.PlayerID || got.Team != w.Team || got.Score != w.Score || got.Placement != w.Placement {
			t.Errorf("result %d = %+v, want %+v", i, got, w)
		}
		if got.TimePlayedS <= 0 || got.TimePlayedS > (testGameLength+time.Second).Seconds() {
			t.Errorf("result %d played %.2fs of a %v game", i, got.TimePlayedS, testGameLength)
		}
	}
	// The server exits after its match and is forgotten; the buffer refills.
	waitFor(t, "the finished server to be removed", func() bool {
		_, ok := serverInfo(f, a.ServerID)
		return !ok
	})
	if _, err := env.kv.Get(ctx, serverKey(a.ServerID)); err == nil {
		t.Errorf("record of finished server %s still in KV", a.ServerID)
	}
	waitReady(t, f, 1)
}

func TestSessionEventsDuringMatch(t *testing.T) {
	env := newTestEnv(t)
	f := startFleet(t, env.config(t))
	waitReady(t, f, 1)
	m := testMatch("session-ev", "carol")
	a, err := f.Allocate(context.Background(), m)
	if err != nil {
		t.Fatalf("allocate: %v", err)
	}
	carol := dial(t, a, env.token(t, a.ServerID, m.SessionID, "carol", time.Now()))
	carol.expect("welcome")
	// The game starts as the player joins; the two reports race.
	evs := nextEvents(t, f, m.SessionID, EventPlayerConnected, EventSessionActive)
	if ev := evs[EventPlayerConnected]; ev.PlayerID != "carol" {
		t.Fatalf("connected event %+v", ev)
	}
	if ev := evs[EventSessionActive]; !slices.Equal(ev.Players, []string{"carol"}) {
		t.Fatalf("active event %+v", ev)
	}
	carol.expect("start")
	info, _ := serverInfo(f, a.ServerID)
	if info.State != StateAllocated || info.SessionID != m.SessionID || !info.Active {
		t.Errorf("server info during the match: %+v", info)
	}
	// Leaving mid-game is reported; the game still ends with results.
	_ = carol.ws.Close(websocket.StatusNormalClosure, "bye")
	if ev := nextEvent(t, f, EventPlayerDisconnected, m.SessionID); ev.PlayerID != "carol" {
		t.Fatalf("disconnected event %+v", ev)
	}
	ended := nextEvent(t, f, EventSessionEnded, m.SessionID)
	if ended.Results == nil || len(ended.Results.Players) != 1 || ended.Results.Players[0].TimePlayedS >= testGameLength.Seconds() {
		t.Fatalf("results after leaving early: %+v", ended.Results)
	}
}

func TestKilledServerFailsSessionAndIsReplaced(t *testing.T) {
	env := newTestEnv(t)
	f := startFleet(t, env.config(t))
	waitReady(t, f, 1)
	m := testMatch("session-crash", "dave", "erin")
	a, err := f.Allocate(context.Background(), m)
	if err != nil {
		t.Fatalf("allocate: %v", err)
	}
	info, _ := serverInfo(f, a.ServerID)
	if err := syscall.Kill(info.PID, syscall.SIGKILL); err != nil {
		t.Fatalf("kill game server: %v", err)
	}
	failed := nextEvent(t, f, EventSessionFailed, m.SessionID)
	if failed.ServerID != a.ServerID || !slices.Equal(playerIDs(failed), []string{"dave", "erin"}) || failed.Reason == "" {
		t.Fatalf("failed event %+v", failed)
	}
	waitFor(t, "the killed server to be replaced", func() bool {
		_, old := serverInfo(f, a.ServerID)
		ready := serversIn(f, StateReady)
		return !old && len(ready) == 1 && ready[0].ID != a.ServerID
	})
}

func TestHungServerIsUnhealthy(t *testing.T) {
	env := newTestEnv(t)
	f := startFleet(t, env.config(t))
	waitReady(t, f, 1)
	m := testMatch("session-hung", "frank")
	a, err := f.Allocate(context.Background(), m)
	if err != nil {
		t.Fatalf("allocate: %v", err)
	}
	info, _ := serverInfo(f, a.ServerID)
	// A stopped process is alive but silent: only heartbeats reveal it.
	if err := syscall.Kill(info.PID, syscall.SIGSTOP); err != nil {
		t.Fatalf("stop game server: %v", err)
	}
	failed := nextEvent(t, f, EventSessionFailed, m.SessionID)
	if !slices.Equal(failed.Players, []string{"frank"}) {
		t.Fatalf("failed event %+v", failed)
	}
	waitFor(t, "the hung server to be killed and removed", func() bool {
		_, ok := serverInfo(f, a.ServerID)
		return !ok && !processAlive(ProcessRef{PID: info.PID})
	})
	waitReady(t, f, 1)
}

func TestRestartReadoptsRunningServers(t *testing.T) {
	env := newTestEnv(t)
	cfg := env.config(t)
	cfg.Buffer = 2
	cfg.Env = append(cfg.Env, gameserver.EnvGameDuration+"=3s") // later entries win
	f1, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := f1.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	waitReady(t, f1, 2)
	m := testMatch("session-restart", "gina")
	a, err := f1.Allocate(context.Background(), m)
	if err != nil {
		t.Fatalf("allocate: %v", err)
	}
	gina := dial(t, a, env.token(t, a.ServerID, m.SessionID, "gina", time.Now()))
	gina.expect("welcome")
	gina.expect("start")
	info, _ := serverInfo(f1, a.ServerID)
	sdkAddr := f1.SDKAddr()

	// The cell restarts mid-game, leaving its servers running.
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	if err := f1.Shutdown(ctx); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	if !processAlive(ProcessRef{PID: info.PID}) {
		t.Fatal("shutting the fleet down killed a running game")
	}
	gina.tap(3) // the game goes on without the cell

	cfg.Buffer = 1
	cfg.ScaleDownDelay = time.Millisecond
	f2 := startFleet(t, cfg)
	if f2.SDKAddr() != sdkAddr {
		t.Fatalf("SDK address moved from %s to %s across the restart", sdkAddr, f2.SDKAddr())
	}
	adopted, ok := serverInfo(f2, a.ServerID)
	if !ok || !adopted.Adopted || adopted.State != StateAllocated || adopted.SessionID != m.SessionID || adopted.PID != info.PID {
		t.Fatalf("adopted server: %+v (found %v)", adopted, ok)
	}
	gina.tap(2)
	ended := nextEvent(t, f2, EventSessionEnded, m.SessionID)
	if ended.Results == nil || len(ended.Results.Players) != 1 || ended.Results.Players[0].Score != 5 {
		t.Fatalf("results through the restarted fleet: %+v", ended.Results)
	}
	// The surplus warm server the first fleet started is scaled down.
	waitFor(t, "one ready server after scale-down", func() bool {
		return len(serversIn(f2, StateReady)) == 1 && len(serversIn(f2, StateStarting)) == 0 && len(f2.Servers()) == 1
	})
}

func TestRestartReportsSessionsLostWhileDown(t *testing.T) {
	env := newTestEnv(t)
	cfg := env.config(t)
	f1, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := f1.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	waitReady(t, f1, 1)
	m := testMatch("session-lost", "hank")
	a, err := f1.Allocate(context.Background(), m)
	if err != nil {
		t.Fatalf("allocate: %v", err)
	}
	info, _ := serverInfo(f1, a.ServerID)
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	if err := f1.Shutdown(ctx); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	// The server dies while no cell watches it.
	if err := syscall.Kill(info.PID, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the server to die", func() bool { return !processAlive(ProcessRef{PID: info.PID}) })

	f2 := startFleet(t, cfg)
	failed := nextEvent(t, f2, EventSessionFailed, m.SessionID)
	if !slices.Equal(failed.Players, []string{"hank"}) {
		t.Fatalf("failed event %+v", failed)
	}
	waitFor(t, "the dead server's record to go", func() bool {
		_, err := env.kv.Get(context.Background(), serverKey(a.ServerID))
		return err != nil
	})
}
