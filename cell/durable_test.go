package cell_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/atollgg/atoll/cell"
	"github.com/atollgg/atoll/cell/bus"
	"github.com/atollgg/atoll/cell/fleet"
	"github.com/atollgg/atoll/cell/matchmaking"
	"github.com/atollgg/atoll/cell/sessions"
	"github.com/atollgg/atoll/global/globaltest"
	"github.com/coder/websocket"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// These tests check that a session's end is applied exactly once whatever
// stops or fails in between: the consumer down during a graceful restart,
// the stream it publishes to failing, the end lost altogether (reconciled
// at start), and a match whose commit fails.

// duel matches a and b in duel on c and connects both to their game
// server; it returns the session's status and the game connections once
// the game has started.
func duel(t *testing.T, c *cell.Cell, a, b globaltest.Player) (matchmaking.Status, *gameConn, *gameConn) {
	t.Helper()
	cl := newClient(c.URL())
	wa := watch(t, c.URL(), a.Access)
	join(t, cl, a.Access, "duel", nil)
	join(t, cl, b.Access, "duel", nil)
	sa := wa.until("matched", matched)
	sb := status(t, cl, b.Access)
	ga, gb := dialGame(t, sa.Server, sa.ConnectToken), dialGame(t, sb.Server, sb.ConnectToken)
	ga.expect(t, "start")
	gb.expect(t, "start")
	return sa, ga, gb
}

// tapUntilEnd makes one tap and reads both players' end frames.
func tapUntilEnd(t *testing.T, ga, gb *gameConn) {
	t.Helper()
	if err := ga.conn.Write(context.Background(), websocket.MessageText, []byte(`{"type":"tap"}`)); err != nil {
		t.Fatal(err)
	}
	ga.expect(t, "end")
	gb.expect(t, "end")
}

// session reads a session as player (token) sees it.
func session(t *testing.T, cl *client, token, id string) sessions.Session {
	t.Helper()
	r := cl.do(t, "GET", "/sessions/"+id, token, nil)
	var s sessions.Session
	if err := json.Unmarshal(r.body, &s); err != nil || r.status != http.StatusOK {
		t.Fatalf("GET session %s: %d %s", id, r.status, r.body)
	}
	return s
}

// completedCount is how many match.completed events the cell's stream
// holds.
func completedCount(t *testing.T, c *cell.Cell) uint64 {
	t.Helper()
	subj := c.Bus.Subject(sessions.KindMatchCompleted)
	info, err := c.Bus.Stream().Info(context.Background(), jetstream.WithSubjectFilter(subj))
	if err != nil {
		t.Fatal(err)
	}
	return info.State.Subjects[subj]
}

// counter is the value of a counter of c's registry with labels.
func counter(t *testing.T, reg *prometheus.Registry, name string, labels map[string]string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			if matchesLabels(m, labels) {
				return m.GetCounter().GetValue()
			}
		}
	}
	return 0
}

func matchesLabels(m *dto.Metric, want map[string]string) bool {
	n := 0
	for _, l := range m.GetLabel() {
		if v, ok := want[l.GetName()]; ok {
			if v != l.GetValue() {
				return false
			}
			n++
		}
	}
	return n == len(want)
}

// settled waits until the session-event consumer has applied (acked)
// everything on the stream.
func settled(t *testing.T, c *cell.Cell) {
	t.Helper()
	ctx := context.Background()
	cons, err := c.Bus.JS.Consumer(ctx, sessions.EventStreamName(globaltest.CellID), matchmaking.EventConsumer)
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "every session event applied", func() bool {
		info, err := cons.Info(ctx)
		return err == nil && info.NumPending == 0 && info.NumAckPending == 0
	})
}

// joinAgain checks that a player whose session is over may queue again.
func joinAgain(t *testing.T, cl *client, token string) {
	t.Helper()
	join(t, cl, token, "duel", nil)
	if r := cl.do(t, "DELETE", "/matchmaking/ticket", token, nil); r.status != http.StatusOK && r.status != http.StatusConflict {
		t.Fatalf("cancel after joining again: %d %s", r.status, r.body)
	}
}

// TestSessionEndDuringGracefulRestart: a game ends while matchmaking's
// consumer is stopped and the fleet still runs (the window of a graceful
// restart). The end is kept on the stream; after the restart the session
// ends with its results, match.completed is published once, and the
// players may queue again.
func TestSessionEndDuringGracefulRestart(t *testing.T) {
	core := globaltest.Start(t)
	a, b := core.Guest(t), core.Guest(t)
	cfg := cellConfig(t, core, issuerOf(t, a.Access), gameServer(t))
	c := startCell(t, cfg)
	st, ga, gb := duel(t, c, a, b)
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()

	if err := c.Matchmaking.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	tapUntilEnd(t, ga, gb)
	events, err := sessions.OpenEventLog(ctx, c.Bus.JS, globaltest.CellID)
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "the session's end on the event stream", func() bool {
		ev, ok, err := events.Terminal(ctx, st.SessionID)
		return err == nil && ok && ev.Results != nil
	})
	if s := session(t, newClient(c.URL()), a.Access, st.SessionID); s.Status.Terminal() {
		t.Fatalf("session applied with matchmaking stopped: %+v", s)
	}
	if err := c.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}

	c2 := startCell(t, cfg)
	cl := newClient(c2.URL())
	eventually(t, "the session ended after the restart", func() bool {
		return session(t, cl, a.Access, st.SessionID).Status == sessions.StatusEnded
	})
	settled(t, c2)
	s := session(t, cl, b.Access, st.SessionID)
	if s.Results == nil || len(s.Results.Players) != 2 {
		t.Fatalf("ended session %+v", s)
	}
	if n := completedCount(t, c2); n != 1 {
		t.Fatalf("%d match.completed events, want 1", n)
	}
	joinAgain(t, cl, a.Access)
	joinAgain(t, cl, b.Access)
}

// TestSessionEndRetriedUntilApplied: while match.completed cannot be
// published (the cell's stream is gone), the session's end is retried, not
// dropped: the session stays in play and its players matched. Once the
// stream is back the end is applied, exactly once.
func TestSessionEndRetriedUntilApplied(t *testing.T) {
	core := globaltest.Start(t)
	a, b := core.Guest(t), core.Guest(t)
	c := startCell(t, cellConfig(t, core, issuerOf(t, a.Access), gameServer(t)))
	cl := newClient(c.URL())
	st, ga, gb := duel(t, c, a, b)
	ctx := context.Background()

	streamCfg := c.Bus.Stream().CachedInfo().Config
	if err := c.Bus.JS.DeleteStream(ctx, streamCfg.Name); err != nil {
		t.Fatal(err)
	}
	tapUntilEnd(t, ga, gb)
	eventually(t, "the session's end retried", func() bool {
		return counter(t, c.Registry, "atoll_matchmaking_session_events_total", map[string]string{"result": "retried"}) >= 2
	})
	if s := session(t, cl, a.Access, st.SessionID); s.Status.Terminal() {
		t.Fatalf("session over though match.completed was not published: %+v", s)
	}
	if r := cl.do(t, "POST", "/matchmaking/join", a.Access, matchmaking.JoinRequest{GameMode: "duel", LatenciesMs: map[string]int{testRegion: 20}}); r.status != http.StatusConflict {
		t.Fatalf("join while the session's end is pending: %d %s", r.status, r.body)
	}

	if _, err := c.Bus.JS.CreateStream(ctx, streamCfg); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the session ended once the stream is back", func() bool {
		return session(t, cl, a.Access, st.SessionID).Status == sessions.StatusEnded
	})
	settled(t, c)
	if n := completedCount(t, c); n != 1 {
		t.Fatalf("%d match.completed events, want 1", n)
	}
	joinAgain(t, cl, a.Access)
}

// TestLostSessionEndReconciledAtStart: a session whose server vanished
// with its record while the cell was down (as when an earlier version
// lost the end) is failed at the next start, and its players requeued,
// instead of staying in play forever.
func TestLostSessionEndReconciledAtStart(t *testing.T) {
	core := globaltest.Start(t)
	a, b := core.Guest(t), core.Guest(t)
	cfg := cellConfig(t, core, issuerOf(t, a.Access), gameServer(t))
	c := startCell(t, cfg)
	st, _, _ := duel(t, c, a, b)
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	if err := c.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	killGameServers(c)

	// Remove the fleet's records with the cell stopped, through the same
	// store the cell opens.
	bs, err := bus.Start(ctx, bus.Config{CellID: cfg.CellID, DataDir: cfg.DataDir})
	if err != nil {
		t.Fatal(err)
	}
	kv, err := bs.JS.KeyValue(ctx, cell.FleetBucket)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := kv.Keys(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		if strings.HasPrefix(k, "fleet.server.") {
			if err := kv.Purge(ctx, k); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := bs.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}

	c2 := startCell(t, cfg)
	cl := newClient(c2.URL())
	eventually(t, "the lost session failed", func() bool {
		return session(t, cl, a.Access, st.SessionID).Status == sessions.StatusFailed
	})
	// Requeued keeping their age, the two are matched again.
	for _, p := range []globaltest.Player{a, b} {
		eventually(t, "the player matched into a new session", func() bool {
			s := status(t, cl, p.Access)
			return s.Status == matchmaking.StatusMatched && s.SessionID != st.SessionID
		})
	}
}

// TestFailedCommitRequeues: when a match cannot be recorded (its tickets
// cannot be stored as matched), its tickets go back to the queue and its
// server is freed; once the store recovers they are matched.
func TestFailedCommitRequeues(t *testing.T) {
	core := globaltest.Start(t)
	a, b, probe := core.Guest(t), core.Guest(t), core.Guest(t)
	c := startCell(t, cellConfig(t, core, issuerOf(t, a.Access), gameServer(t)))
	cl := newClient(c.URL())
	ctx := context.Background()

	// A queued ticket's stored size; a matched one carries its session and
	// server besides (well over 100 bytes more).
	probeTicket := join(t, cl, probe.Access, "5v5", nil)
	kv, err := c.Bus.JS.KeyValue(ctx, matchmaking.TicketBucket)
	if err != nil {
		t.Fatal(err)
	}
	e, err := kv.Get(ctx, "t."+probeTicket)
	if err != nil {
		t.Fatal(err)
	}
	limit := func(n int32) {
		t.Helper()
		st, err := c.Bus.JS.Stream(ctx, "KV_"+matchmaking.TicketBucket)
		if err != nil {
			t.Fatal(err)
		}
		cfg := st.CachedInfo().Config
		cfg.MaxMsgSize = n
		if _, err := c.Bus.JS.UpdateStream(ctx, cfg); err != nil {
			t.Fatal(err)
		}
	}
	limit(int32(len(e.Value()) + 64 + len("t."+probeTicket)))

	wa := watch(t, c.URL(), a.Access)
	join(t, cl, a.Access, "duel", nil)
	join(t, cl, b.Access, "duel", nil)
	eventually(t, "a failed commit", func() bool {
		return counter(t, c.Registry, "atoll_matchmaking_allocations_total", map[string]string{"outcome": "commit_failed"}) >= 1
	})
	limit(-1)
	st := wa.until("matched", matched)
	if got := status(t, cl, b.Access); got.SessionID != st.SessionID || got.Status != matchmaking.StatusMatched {
		t.Fatalf("b after the store recovered: %+v (a: %+v)", got, st)
	}
	// The servers of the matches not recorded were freed.
	eventually(t, "only the recorded match holding a server", func() bool {
		for _, s := range c.Fleet.Servers() {
			if s.SessionID != "" && s.SessionID != st.SessionID && s.State == fleet.StateAllocated {
				return false
			}
		}
		return true
	})
}
