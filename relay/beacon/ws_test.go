package beacon

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

func TestPingHandler(t *testing.T) {
	srv := httptest.NewServer(PingHandler(PingConfig{RelayID: "eu-r1", RegionID: "eu", Load: func() uint8 { return 9 }}))
	t.Cleanup(srv.Close)
	ctx, cancel := context.WithTimeout(context.Background(), replyWait)
	defer cancel()
	url := "ws" + strings.TrimPrefix(srv.URL, "http") + PathPing
	tests := []struct {
		name      string
		frames    []string
		binary    bool
		wantEcho  int                  // replies before the end
		wantClose websocket.StatusCode // -1: no close expected
	}{
		{"pings answered", []string{"a", "b"}, false, 2, -1},
		{"frame too large", []string{strings.Repeat("x", MaxPingFrame+1)}, false, 0, websocket.StatusMessageTooBig},
		{"binary refused", []string{"a"}, true, 0, websocket.StatusPolicyViolation},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ws, _, err := websocket.Dial(ctx, url, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer ws.CloseNow()
			got := 0
			for _, f := range tt.frames {
				typ := websocket.MessageText
				if tt.binary {
					typ = websocket.MessageBinary
				}
				if err := ws.Write(ctx, typ, []byte(f)); err != nil {
					break
				}
				_, data, err := ws.Read(ctx)
				if err != nil {
					if code := websocket.CloseStatus(err); code != tt.wantClose {
						t.Fatalf("close %v (%v), want %v", code, err, tt.wantClose)
					}
					break
				}
				var r PingReply
				if err := json.Unmarshal(data, &r); err != nil || r.Echo != f || r.RelayID != "eu-r1" || r.RegionID != "eu" || r.Load != 9 {
					t.Fatalf("reply %s, %v", data, err)
				}
				got++
				time.Sleep(PingMinInterval) // the protocol's own pacing, not synchronization
			}
			if got != tt.wantEcho {
				t.Fatalf("%d replies, want %d", got, tt.wantEcho)
			}
		})
	}
}
