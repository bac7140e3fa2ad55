package client_test

import (
	"bytes"
	"context"
	"errors"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/atollgg/atoll/gameserver/netcode"
	"github.com/atollgg/atoll/gameserver/server"
	"github.com/coder/websocket"
)

// link simulates the network between a client and its game server: a
// WebSocket relay that delays every frame by a one-way latency with
// jitter (keeping order, as TCP does) and drops a share of the game's
// input and snapshot frames, as a lossy datagram path would.
type link struct {
	upstream       string
	oneWay, jitter time.Duration
	loss           float64

	mu  sync.Mutex // guards rng
	rng *rand.Rand

	srv                *httptest.Server
	dropped, forwarded atomic.Int64
}

// linkQueue buffers frames in flight in one direction: 100 ms of a full
// match's snapshots and inputs.
const linkQueue = 1024

func newLink(t *testing.T, upstream string, oneWay, jitter time.Duration, loss float64, seed uint64) *link {
	l := &link{upstream: upstream, oneWay: oneWay, jitter: jitter, loss: loss, rng: rand.New(rand.NewPCG(seed, seed))}
	l.srv = httptest.NewServer(http.HandlerFunc(l.relay))
	t.Cleanup(l.srv.Close)
	return l
}

// URL is where clients dial instead of the game server.
func (l *link) URL() string { return "ws" + strings.TrimPrefix(l.srv.URL, "http") + server.PathConnect }

func (l *link) relay(w http.ResponseWriter, r *http.Request) {
	down, err := websocket.Accept(w, r, nil)
	if err != nil {
		return
	}
	defer down.CloseNow()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	up, _, err := websocket.Dial(ctx, l.upstream, nil)
	if err != nil {
		return
	}
	defer up.CloseNow()
	limit := int64(netcode.MaxJSONFrameSize)
	down.SetReadLimit(limit)
	up.SetReadLimit(limit)
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); l.pump(ctx, down, up, netcode.FrameInput) }()
	go func() { defer wg.Done(); l.pump(ctx, up, down, netcode.FrameSnapshot) }()
	wg.Wait()
}

type inFlight struct {
	due  time.Time
	typ  websocket.MessageType
	data []byte
}

// pump forwards src to dst after the link's delay, dropping binary frames
// of kind lossy with the link's loss rate. When src ends, the frames in
// flight are delivered and dst is closed the same way (its close code and
// reason passed on), which ends the other direction too.
func (l *link) pump(ctx context.Context, src, dst *websocket.Conn, lossy netcode.FrameKind) {
	queue := make(chan inFlight, linkQueue)
	writerDone := make(chan struct{})
	go func() { // delivers in order, each frame at its due time
		defer close(writerDone)
		broken := false
		for f := range queue {
			if broken {
				continue // dst is gone: drain
			}
			if d := time.Until(f.due); d > 0 {
				t := time.NewTimer(d)
				select {
				case <-ctx.Done():
					t.Stop()
					broken = true
					continue
				case <-t.C:
				}
			}
			broken = dst.Write(ctx, f.typ, f.data) != nil
		}
	}()
	var last time.Time
	for {
		typ, data, err := src.Read(ctx)
		if err != nil {
			close(queue)
			<-writerDone
			var ce websocket.CloseError
			if errors.As(err, &ce) {
				_ = dst.Close(ce.Code, ce.Reason)
			} else {
				_ = dst.CloseNow()
			}
			return
		}
		l.mu.Lock()
		drop := frameKind(typ, data) == lossy && l.rng.Float64() < l.loss
		delay := l.oneWay + time.Duration((l.rng.Float64()*2-1)*float64(l.jitter))
		l.mu.Unlock()
		if drop {
			l.dropped.Add(1)
			continue
		}
		l.forwarded.Add(1)
		due := time.Now().Add(delay)
		if due.Before(last) {
			due = last // a stream never reorders
		}
		last = due
		queue <- inFlight{due: due, typ: typ, data: data}
	}
}

// frameKind tells a game frame's kind in either encoding (JSON frames
// start with their kind); 0 for anything else.
func frameKind(typ websocket.MessageType, data []byte) netcode.FrameKind {
	if typ == websocket.MessageBinary {
		if len(data) == 0 {
			return 0
		}
		return netcode.FrameKind(data[0])
	}
	for _, k := range []netcode.FrameKind{netcode.FrameInput, netcode.FrameSnapshot} {
		if bytes.HasPrefix(data, []byte(`{"kind":"`+k.String()+`"`)) {
			return k
		}
	}
	return 0
}
