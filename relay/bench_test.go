package relay

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// BenchmarkForward measures what one relay adds to a game's round trips:
// 64-byte binary frames echoed by a game server, directly and through the
// relay, one frame in flight (p50/p99 per round trip), and frames per
// second. Full run:
//
//	go test -run '^$' -bench BenchmarkForward -benchtime 20000x ./relay/
func BenchmarkForward(b *testing.B) {
	f := newFixtureWith(b, ForwardConfig{FrameRate: 1 << 20, ByteRate: 1 << 30})
	for _, tc := range []struct{ name, url string }{
		{"direct", "ws://" + f.serverAddr + PathConnect},
		{"relay", "ws://" + f.relay.Addr() + PathPlay},
	} {
		b.Run(tc.name, func(b *testing.B) {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			defer cancel()
			ws, _, err := websocket.Dial(ctx, tc.url, nil)
			if err != nil {
				b.Fatal(err)
			}
			defer ws.CloseNow()
			if err := ws.Write(ctx, websocket.MessageText, []byte(helloOf(f.token(b, tokenOpts{})))); err != nil {
				b.Fatal(err)
			}
			<-f.hellos
			if _, _, err := ws.Read(ctx); err != nil { // welcome
				b.Fatal(err)
			}
			frame := make([]byte, 64)
			rtts := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			start := time.Now()
			for range b.N {
				t0 := time.Now()
				if err := ws.Write(ctx, websocket.MessageBinary, frame); err != nil {
					b.Fatal(err)
				}
				if _, _, err := ws.Read(ctx); err != nil {
					b.Fatal(err)
				}
				rtts = append(rtts, time.Since(t0))
			}
			elapsed := time.Since(start)
			b.StopTimer()
			slices.Sort(rtts)
			b.ReportMetric(float64(rtts[len(rtts)/2].Microseconds()), "p50-µs")
			b.ReportMetric(float64(rtts[len(rtts)*99/100].Microseconds()), "p99-µs")
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "frames/s")
		})
	}
}
