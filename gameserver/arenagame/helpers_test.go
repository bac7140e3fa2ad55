package arenagame_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"testing"

	"github.com/atollgg/atoll/gameserver/arenagame"
	"github.com/atollgg/atoll/gameserver/netcode"
	"github.com/atollgg/atoll/gameserver/sdk"
	"github.com/coder/websocket"
)

// kinds summarises a player's telemetry as violation kinds (and "kick").
func kinds(t *testing.T, events []sdk.TelemetryEvent, player string) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, e := range events {
		if e.PlayerID != player {
			continue
		}
		switch e.Kind {
		case arenagame.TelemetryViolation:
			var d arenagame.ViolationData
			if err := json.Unmarshal(e.Data, &d); err != nil {
				t.Fatalf("violation data %s: %v", e.Data, err)
			}
			out[d.Violation]++
		case arenagame.TelemetryKick:
			var d arenagame.KickData
			if err := json.Unmarshal(e.Data, &d); err != nil || len(d.Counts) == 0 {
				t.Fatalf("kick data %s: %v", e.Data, err)
			}
			out["kick"]++
		}
	}
	return out
}

// raw is a hand-driven game connection, for sending what no honest client
// would.
type raw struct {
	t       *testing.T
	ws      *websocket.Conn
	cc      *netcode.ClientConn
	welcome netcode.Welcome
	latest  *netcode.Snapshot
	kick    *netcode.Kick
}

// dialRaw connects and handshakes in the binary encoding.
func dialRaw(t *testing.T, ctx context.Context, url, token string) *raw {
	t.Helper()
	ws, _, err := websocket.Dial(ctx, url, nil)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { _ = ws.CloseNow() })
	ws.SetReadLimit(netcode.MaxJSONFrameSize)
	r := &raw{t: t, ws: ws, cc: netcode.NewClientConn()}
	hello, _ := json.Marshal(map[string]string{"token": token})
	if err := ws.Write(ctx, websocket.MessageText, hello); err != nil {
		t.Fatal(err)
	}
	if _, _, err := ws.Read(ctx); err != nil { // the server package's welcome
		t.Fatalf("hello answer: %v", err)
	}
	r.sendFrame(ctx, &netcode.ClientFrame{Kind: netcode.FramePing})
	for r.welcome.Version == 0 {
		f, err := r.next(ctx)
		if err != nil {
			t.Fatalf("waiting for welcome: %v", err)
		}
		if f.Kind == netcode.FrameWelcome {
			r.welcome = f.Welcome
		}
	}
	return r
}

func (r *raw) sendFrame(ctx context.Context, f *netcode.ClientFrame) {
	r.t.Helper()
	b, err := netcode.AppendClientFrame(nil, netcode.Binary, f)
	if err != nil {
		r.t.Fatalf("encode: %v", err)
	}
	_ = r.ws.Write(ctx, websocket.MessageBinary, b) // a kicked client's writes fail; reads tell
}

// next reads and decodes one server frame, tracking the newest snapshot.
func (r *raw) next(ctx context.Context) (netcode.ServerFrame, error) {
	var f netcode.ServerFrame
	_, data, err := r.ws.Read(ctx)
	if err != nil {
		return f, err
	}
	if err := r.cc.DecodeServerFrame(data, &f); err != nil {
		r.t.Fatalf("decode server frame: %v", err)
	}
	switch f.Kind {
	case netcode.FrameSnapshot:
		if r.latest == nil || f.Snapshot.Tick > r.latest.Tick {
			r.latest = f.Snapshot
		}
	case netcode.FrameKick:
		k := f.Kick
		r.kick = &k
	}
	return f, nil
}

// untilSnapshot reads until a snapshot newer than tick arrives.
func (r *raw) untilSnapshot(ctx context.Context, tick uint32) error {
	for r.latest == nil || r.latest.Tick <= tick {
		if _, err := r.next(ctx); err != nil {
			return err
		}
	}
	return nil
}

// closeCode reads until the server closes and returns its code.
func (r *raw) closeCode(ctx context.Context) websocket.StatusCode {
	r.t.Helper()
	for {
		if _, err := r.next(ctx); err != nil {
			var ce websocket.CloseError
			if !errors.As(err, &ce) {
				r.t.Fatalf("want a close from the server, got %v", err)
			}
			return ce.Code
		}
	}
}

func sortedKeys(m map[string]int) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
