package cell_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/atollgg/atoll/cell"
	"github.com/atollgg/atoll/cell/matchmaking"
	"github.com/atollgg/atoll/global/globaltest"
	"github.com/atollgg/atoll/internal/obs"
	"github.com/coder/websocket"
	"github.com/golang-jwt/jwt/v5"
)

// Test timings.
const (
	// waitTimeout bounds every wait on a real condition: starting game
	// server processes and a few SDK round trips take well under a second,
	// even on a loaded 2-core machine running race-enabled binaries.
	waitTimeout = 60 * time.Second
	// testHeartbeat is the game servers' heartbeat: a crashed server is
	// noticed at once by its process exit, so heartbeats only need to stay
	// clear of a loaded machine's scheduling hiccups (three missed = dead).
	testHeartbeat = time.Second
	// testGameLength is how long the reference game lasts in tests.
	testGameLength = 1500 * time.Millisecond
	testRegion     = "eu-test"
)

// buildBinary builds a main package of the module into dir.
func buildBinary(t testing.TB, pkg string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), filepath.Base(pkg))
	cmd := exec.Command("go", "build", "-o", out, "github.com/atollgg/atoll/"+pkg)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build %s: %v\n%s", pkg, err, b)
	}
	return out
}

// portRange returns a range of 40 game ports unlikely to collide with
// another test binary's (the fleet skips ports in use anyway).
func portRange() (int, int) {
	lo := 20000 + 40*rand.IntN(500)
	return lo, lo + 39
}

// issuerOf returns the "iss" of an access token (unverified: the test only
// needs to tell the cell which issuer the core uses).
func issuerOf(t testing.TB, token string) string {
	t.Helper()
	var c jwt.RegisteredClaims
	if _, _, err := jwt.NewParser().ParseUnverified(token, &c); err != nil {
		t.Fatal(err)
	}
	return c.Issuer
}

// cellConfig is a cell configuration for tests against core.
func cellConfig(t testing.TB, core *globaltest.Core, issuer, gameServer string) cell.Config {
	lo, hi := portRange()
	return cell.Config{
		CellID: globaltest.CellID, Region: testRegion, HTTPAddr: "127.0.0.1:0",
		GlobalURL: core.URL, GlobalIssuer: issuer, DataDir: t.TempDir(), ServiceToken: globaltest.CellToken,
		GameServerCommand: []string{gameServer},
		// The tests play the timed game (taps), not the default arena.
		GameServerEnv: []string{"ATOLL_GAME=timed", "ATOLL_GAME_DURATION=" + testGameLength.String(), "ATOLL_GAME_JOIN_TIMEOUT=20s"},
		GamePortMin:   lo, GamePortMax: hi, WarmServers: 2, MaxServers: 8, HeartbeatPeriod: testHeartbeat,
		Log: obs.Discard(),
	}
}

// startCell runs a cell in-process until the test ends.
func startCell(t testing.TB, cfg cell.Config) *cell.Cell {
	t.Helper()
	c, err := cell.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	if err := c.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
		defer cancel()
		if err := c.Shutdown(ctx); err != nil {
			t.Errorf("cell shutdown: %v", err)
		}
		// Stop the game servers the fleet leaves running for a restart.
		killGameServers(c)
	})
	return c
}

// killGameServers ends the game servers of c's fleet, which outlive the
// cell by design.
func killGameServers(c *cell.Cell) {
	if c.Fleet == nil {
		return
	}
	for _, s := range c.Fleet.Servers() {
		if s.PID > 0 {
			killGroup(s.PID)
		}
	}
}

// client talks to a cell's HTTP API.
type client struct {
	base string
	hc   *http.Client
}

func newClient(base string) *client {
	return &client{base: base, hc: &http.Client{Timeout: 10 * time.Second}}
}

type response struct {
	status int
	body   []byte
}

func (r response) code() string {
	var e struct {
		Error struct{ Code string } `json:"error"`
	}
	_ = json.Unmarshal(r.body, &e)
	return e.Error.Code
}

func (c *client) do(t testing.TB, method, path, token string, body any) response {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		rd = bytes.NewReader(b)
	case string:
		rd = strings.NewReader(b)
	default:
		data, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, c.base+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return response{status: resp.StatusCode, body: data}
}

func join(t testing.TB, c *client, token, mode string, party []matchmaking.PartyMember) string {
	t.Helper()
	resp := c.do(t, "POST", "/matchmaking/join", token, matchmaking.JoinRequest{
		GameMode: mode, LatenciesMs: map[string]int{testRegion: 20, "elsewhere": 140}, Party: party,
	})
	if resp.status != http.StatusAccepted {
		t.Fatalf("join: %d %s", resp.status, resp.body)
	}
	var jr matchmaking.JoinResponse
	if err := json.Unmarshal(resp.body, &jr); err != nil || jr.TicketID == "" {
		t.Fatalf("join answer %s: %v", resp.body, err)
	}
	return jr.TicketID
}

func status(t testing.TB, c *client, token string) matchmaking.Status {
	t.Helper()
	resp := c.do(t, "GET", "/matchmaking/status", token, nil)
	if resp.status != http.StatusOK {
		t.Fatalf("status: %d %s", resp.status, resp.body)
	}
	var st matchmaking.Status
	if err := json.Unmarshal(resp.body, &st); err != nil {
		t.Fatal(err)
	}
	return st
}

// watcher is a player's matchmaking WebSocket.
type watcher struct {
	t    testing.TB
	conn *websocket.Conn
	msgs chan matchmaking.ServerMessage
}

// watch opens /ws with the token in the Authorization header.
func watch(t testing.TB, base, token string) *watcher {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	conn, resp, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(base, "http")+"/ws", &websocket.DialOptions{
		HTTPHeader: http.Header{"Authorization": {"Bearer " + token}},
	})
	if err != nil {
		t.Fatalf("dial /ws: %v (%v)", err, resp)
	}
	w := &watcher{t: t, conn: conn, msgs: make(chan matchmaking.ServerMessage, 64)}
	done := make(chan struct{})
	go func() { // reader; ends when the connection closes at cleanup
		defer close(done)
		defer close(w.msgs)
		for {
			_, data, err := conn.Read(context.Background())
			if err != nil {
				return
			}
			var m matchmaking.ServerMessage
			if err := json.Unmarshal(data, &m); err != nil {
				t.Errorf("ws message %s: %v", data, err)
				return
			}
			w.msgs <- m
		}
	}()
	t.Cleanup(func() { conn.CloseNow(); <-done })
	return w
}

// until returns the first pushed status for which ok holds.
func (w *watcher) until(what string, ok func(matchmaking.Status) bool) matchmaking.Status {
	w.t.Helper()
	timer := time.NewTimer(waitTimeout)
	defer timer.Stop()
	for {
		select {
		case m, open := <-w.msgs:
			if !open {
				w.t.Fatalf("websocket closed while waiting for %s", what)
			}
			if m.Status != nil && ok(*m.Status) {
				return *m.Status
			}
		case <-timer.C:
			w.t.Fatalf("no %s status within %s", what, waitTimeout)
		}
	}
}

func matched(st matchmaking.Status) bool {
	return st.Status == matchmaking.StatusMatched && st.ConnectToken != "" && !st.SessionOver
}

// gameConn is a player's connection to a game server.
type gameConn struct {
	conn *websocket.Conn
}

// dialGame connects to a matched server and sends the hello with token.
func dialGame(t testing.TB, srv *matchmaking.ServerAddr, token string) *gameConn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	conn, _, err := websocket.Dial(ctx, fmt.Sprintf("ws://%s/connect", net.JoinHostPort(srv.Host, fmt.Sprint(srv.Port))), nil)
	if err != nil {
		t.Fatalf("dial game server: %v", err)
	}
	t.Cleanup(func() { conn.CloseNow() })
	hello, _ := json.Marshal(map[string]string{"token": token})
	if err := conn.Write(ctx, websocket.MessageText, hello); err != nil {
		t.Fatal(err)
	}
	return &gameConn{conn: conn}
}

// next reads the next frame; a close is returned as err.
func (g *gameConn) next(t testing.TB) (map[string]any, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	_, data, err := g.conn.Read(ctx)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatalf("game frame %s: %v", data, err)
	}
	return m, nil
}

// expect reads frames until one of type typ.
func (g *gameConn) expect(t testing.TB, typ string) map[string]any {
	t.Helper()
	for {
		m, err := g.next(t)
		if err != nil {
			t.Fatalf("waiting for %q frame: %v", typ, err)
		}
		if m["type"] == typ {
			return m
		}
	}
}

// eventually polls cond until it holds or waitTimeout passes; for state
// that no push announces (a process's exit, the fleet's view).
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		<-tick.C
	}
}
