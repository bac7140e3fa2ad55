package beacon

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	"github.com/coder/websocket"
)

// PathPing is where browsers, which cannot send UDP, open their ping
// WebSocket: each text frame they send (an opaque nonce, at most
// MaxPingFrame bytes) is answered at once with a PingReply.
const PathPing = "/ping"

// WebSocket ping limits.
const (
	// MaxPingFrame bounds a ping frame: a nonce or a timestamp is a few
	// bytes, so 64 lets clients choose their format and keeps every reply
	// small.
	MaxPingFrame = 64
	// MaxPingsPerConn bounds one connection's pings: a client probes a
	// region a handful of times, so 64 is plenty and a connection cannot
	// be kept as an echo service.
	MaxPingsPerConn = 64
	// PingMinInterval is the least time between two pings of a connection
	// (50 per second): probes spaced closer measure nothing more.
	PingMinInterval = 20 * time.Millisecond
	// PingIdleTimeout closes a connection that sends nothing for this long.
	PingIdleTimeout = 10 * time.Second
	// MaxPingConns bounds concurrent ping connections per relay: each is a
	// goroutine and a socket; beyond it browsers get 503 and retry.
	MaxPingConns = 4096
	// PingConnLife bounds a ping connection's whole life, replacing the
	// HTTP server's request deadlines (which would cut it mid-probe).
	PingConnLife = time.Minute
)

// PingReply answers one WebSocket ping.
type PingReply struct {
	Echo     string `json:"echo"`
	RelayID  string `json:"relay_id"`
	RegionID string `json:"region_id"`
	Load     uint8  `json:"load"`
}

// PingConfig configures PingHandler.
type PingConfig struct {
	// RelayID and RegionID are sent in every reply. Required.
	RelayID, RegionID string
	// Load returns the load hint; zero means always 0.
	Load func() uint8
	// AllowedOrigins are the browser origins (host patterns, see
	// websocket.AcceptOptions) that may ping; zero means any: a ping
	// reveals nothing a page could abuse.
	AllowedOrigins []string
}

// PingHandler serves the browsers' WebSocket ping.
func PingHandler(cfg PingConfig) http.Handler {
	if cfg.Load == nil {
		cfg.Load = func() uint8 { return 0 }
	}
	slots := make(chan struct{}, MaxPingConns)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case slots <- struct{}{}:
			defer func() { <-slots }()
		default:
			w.Header().Set("Retry-After", "1")
			http.Error(w, "too many ping connections", http.StatusServiceUnavailable)
			return
		}
		rc := http.NewResponseController(w)
		_ = rc.SetReadDeadline(time.Now().Add(PingConnLife))
		_ = rc.SetWriteDeadline(time.Now().Add(PingConnLife))
		opts := &websocket.AcceptOptions{OriginPatterns: cfg.AllowedOrigins, InsecureSkipVerify: len(cfg.AllowedOrigins) == 0}
		ws, err := websocket.Accept(w, r, opts)
		if err != nil {
			return // Accept answered the request
		}
		defer ws.CloseNow()
		ws.SetReadLimit(MaxPingFrame)
		var last time.Time
		for range MaxPingsPerConn {
			ctx, cancel := context.WithTimeout(r.Context(), PingIdleTimeout)
			typ, data, err := ws.Read(ctx)
			cancel()
			if err != nil {
				return
			}
			now := time.Now()
			if typ != websocket.MessageText || now.Sub(last) < PingMinInterval {
				_ = ws.Close(websocket.StatusPolicyViolation, "one small text frame per 20 ms")
				return
			}
			last = now
			reply, _ := json.Marshal(PingReply{Echo: string(data), RelayID: cfg.RelayID, RegionID: cfg.RegionID, Load: cfg.Load()})
			wctx, wcancel := context.WithTimeout(r.Context(), PingIdleTimeout)
			err = ws.Write(wctx, websocket.MessageText, reply)
			wcancel()
			if err != nil {
				return
			}
		}
		_ = ws.Close(websocket.StatusNormalClosure, "ping limit reached")
	})
}
