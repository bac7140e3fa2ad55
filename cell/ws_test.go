package cell_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/atollgg/atoll/cell/matchmaking"
	"github.com/atollgg/atoll/global/globaltest"
	"github.com/coder/websocket"
)

// TestWSStatusFramesAreCheap: asking for one's status again reuses the
// connect token instead of signing a new one, and a client flooding status
// frames is closed.
func TestWSStatusFramesAreCheap(t *testing.T) {
	core := globaltest.Start(t)
	a, b := core.Guest(t), core.Guest(t)
	c := startCell(t, cellConfig(t, core, issuerOf(t, a.Access), gameServer(t)))
	cl := newClient(c.URL())
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	conn, resp, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(c.URL(), "http")+"/ws", &websocket.DialOptions{
		HTTPHeader: http.Header{"Authorization": {"Bearer " + a.Access}},
	})
	if err != nil {
		t.Fatalf("dial /ws: %v (%v)", err, resp)
	}
	defer conn.CloseNow()
	read := func() (matchmaking.ServerMessage, error) {
		_, data, err := conn.Read(ctx)
		if err != nil {
			return matchmaking.ServerMessage{}, err
		}
		var m matchmaking.ServerMessage
		if err := json.Unmarshal(data, &m); err != nil {
			t.Fatal(err)
		}
		return m, nil
	}
	ask := func() {
		if err := conn.Write(ctx, websocket.MessageText, []byte(`{"type":"status"}`)); err != nil {
			t.Fatal(err)
		}
	}
	join(t, cl, a.Access, "duel", nil)
	join(t, cl, b.Access, "duel", nil)
	var first matchmaking.Status
	for {
		m, err := read()
		if err != nil {
			t.Fatal(err)
		}
		if m.Status != nil && matched(*m.Status) {
			first = *m.Status
			break
		}
	}
	ask()
	m, err := read()
	if err != nil || m.Status == nil || m.Status.ConnectToken != first.ConnectToken || !m.Status.ConnectTokenExpiresAt.Equal(*first.ConnectTokenExpiresAt) {
		t.Fatalf("status on request %+v (%v): want the connect token already given", m.Status, err)
	}
	// The flood: far more frames than the burst allows, answers unread.
	for range 50 {
		if err := conn.Write(ctx, websocket.MessageText, []byte(`{"type":"status"}`)); err != nil {
			break // closed by the cell mid-flood
		}
	}
	for {
		if _, err := read(); err != nil {
			if websocket.CloseStatus(err) != websocket.StatusPolicyViolation {
				t.Fatalf("flooding client: %v, want a policy violation close", err)
			}
			return
		}
	}
}
