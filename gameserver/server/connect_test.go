package server

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/atollgg/atoll/gameserver/sdk"
	"github.com/atollgg/atoll/internal/obs"
	"github.com/atollgg/atoll/internal/tokens"
	"github.com/coder/websocket"
)

// testTimeout bounds every wait of these tests on a real connection.
const testTimeout = 10 * time.Second

// transport is a real gate and room behind a real HTTP server, armed with
// an allocation signed for by ring.
type transport struct {
	t     *testing.T
	ring  *tokens.KeyRing
	room  *Room
	url   string
	alloc *sdk.Allocation
	gate  *gate
}

func newTransport(t *testing.T, players ...string) *transport {
	t.Helper()
	ring := tokens.NewKeyRing()
	jwks, err := ring.JWKS()
	if err != nil {
		t.Fatal(err)
	}
	alloc := &sdk.Allocation{SessionID: "s1", Mode: "duel", Connect: sdk.ConnectVerification{Issuer: "cell", JWKS: jwks}}
	for _, p := range players {
		alloc.Players = append(alloc.Players, sdk.Player{ID: p})
	}
	ctx, cancel := context.WithCancel(context.Background())
	g := &gate{serverID: "srv", log: obs.Discard(), ctx: ctx, ready: make(chan struct{}), report: func(bool, string) {}}
	room := newRoom(Match{SessionID: alloc.SessionID, Players: alloc.Players}, obs.Discard(), func(context.Context) error { return nil })
	if err := g.allocate(alloc, room); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(g)
	t.Cleanup(func() {
		room.close(CloseShuttingDown, "test over")
		closeGate(g, cancel)
		srv.Close()
		cancel()
	})
	return &transport{t: t, ring: ring, room: room, url: "ws" + strings.TrimPrefix(srv.URL, "http") + PathConnect, alloc: alloc, gate: g}
}

func (tr *transport) dial(hello []byte, typ websocket.MessageType) *websocket.Conn {
	tr.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, tr.url, nil)
	if err != nil {
		tr.t.Fatal(err)
	}
	tr.t.Cleanup(func() { _ = ws.CloseNow() })
	if err := ws.Write(ctx, typ, hello); err != nil {
		tr.t.Fatal(err)
	}
	return ws
}

func (tr *transport) join(player string) *websocket.Conn {
	tr.t.Helper()
	tok, err := tr.ring.Sign(tokens.NewConnectClaims("cell", "srv", "s1", player, time.Now(), 0))
	if err != nil {
		tr.t.Fatal(err)
	}
	hello, _ := json.Marshal(map[string]string{"token": tok})
	ws := tr.dial(hello, websocket.MessageText)
	var w welcome
	if err := json.Unmarshal(readFrame(tr.t, ws), &w); err != nil || w.Type != "welcome" || w.PlayerID != player {
		tr.t.Fatalf("welcome %+v (%v)", w, err)
	}
	return ws
}

func (tr *transport) next() Message {
	tr.t.Helper()
	select {
	case m := <-tr.room.Messages():
		return m
	case <-time.After(testTimeout):
		tr.t.Fatal("no message from the room")
		return Message{}
	}
}

func readFrame(t *testing.T, ws *websocket.Conn) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	_, data, err := ws.Read(ctx)
	if err != nil {
		t.Fatalf("read frame: %v", err)
	}
	return data
}

func expectClose(t *testing.T, ws *websocket.Conn, code websocket.StatusCode) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	for {
		_, _, err := ws.Read(ctx)
		if err == nil {
			continue
		}
		var ce websocket.CloseError
		if !errors.As(err, &ce) || ce.Code != code {
			t.Fatalf("want close %d, got %v", code, err)
		}
		return
	}
}

func TestBadHelloIsRefused(t *testing.T) {
	tr := newTransport(t, "a")
	for _, tc := range []struct {
		name  string
		hello string
		typ   websocket.MessageType
	}{
		{"junk", "hello?", websocket.MessageText},
		{"no token", `{"token":""}`, websocket.MessageText},
		{"binary", `{"token":"x"}`, websocket.MessageBinary},
	} {
		t.Run(tc.name, func(t *testing.T) {
			expectClose(t, tr.dial([]byte(tc.hello), tc.typ), CloseBadHello)
		})
	}
}

func TestRoomDeliversFramesAndSends(t *testing.T) {
	tr := newTransport(t, "a", "b")
	a := tr.join("a")
	if m := tr.next(); m.Kind != Joined || m.PlayerID != "a" {
		t.Fatalf("first message %+v", m)
	}
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	if err := a.Write(ctx, websocket.MessageBinary, []byte{1, 2, 3}); err != nil {
		t.Fatal(err)
	}
	if m := tr.next(); m.Kind != Frame || !m.Binary || string(m.Data) != "\x01\x02\x03" {
		t.Fatalf("frame message %+v", m)
	}
	if !tr.room.Send("a", false, []byte(`{"type":"x"}`)) || tr.room.Send("b", false, []byte("{}")) {
		t.Fatal("Send must reach a connected player only")
	}
	if got := string(readFrame(t, a)); got != `{"type":"x"}` {
		t.Fatalf("client got %q", got)
	}
	if c := tr.room.Connected(); len(c) != 1 || c[0] != "a" {
		t.Fatalf("connected %v", c)
	}
	tr.room.Kick("a", CloseForbidden, "kicked")
	expectClose(t, a, CloseForbidden)
	if m := tr.next(); m.Kind != Left || m.PlayerID != "a" {
		t.Fatalf("after kick %+v", m)
	}
}

func TestReconnectReplacesConnection(t *testing.T) {
	tr := newTransport(t, "a")
	first := tr.join("a")
	tr.next() // Joined
	second := tr.join("a")
	expectClose(t, first, CloseReplaced)
	// The replaced connection's end is not a leave: the player is still here.
	if m := tr.next(); m.Kind != Joined || m.PlayerID != "a" {
		t.Fatalf("after reconnect %+v", m)
	}
	if !tr.room.Send("a", false, []byte("{}")) {
		t.Fatal("the new connection is not the player's")
	}
	readFrame(t, second)
}

func TestSlowClientIsDisconnected(t *testing.T) {
	tr := newTransport(t, "a")
	tr.join("a") // and never read
	tr.next()
	big := make([]byte, 64<<10)
	sent := 0
	for tr.room.Send("a", true, big) {
		sent++
		if sent > 10*sendQueueSize {
			t.Fatal("a client that never reads was never cut off")
		}
	}
	if m := tr.next(); m.Kind != Left {
		t.Fatalf("after overflow %+v", m)
	}
}

// TestPendingConnectionsAreCapped: sockets that never send their hello
// cannot pile up; a verified hello frees its slot.
func TestPendingConnectionsAreCapped(t *testing.T) {
	tr := newTransport(t, "p1")
	tr.gate.maxPending = 2
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	var idle []*websocket.Conn
	for range 2 {
		ws, _, err := websocket.Dial(ctx, tr.url, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = ws.CloseNow() })
		idle = append(idle, ws)
	}
	_, resp, err := websocket.Dial(ctx, tr.url, nil)
	if err == nil || resp == nil || resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("third pending connection: %v (%v), want 503", err, resp)
	}
	// An idle socket that goes away frees its slot, and a player gets in.
	_ = idle[0].CloseNow()
	for {
		ws, resp, err := websocket.Dial(ctx, tr.url, nil)
		if err == nil {
			_ = ws.CloseNow()
			break
		}
		if resp == nil || resp.StatusCode != http.StatusServiceUnavailable {
			t.Fatalf("dial after a slot freed: %v", err)
		}
	}
}
