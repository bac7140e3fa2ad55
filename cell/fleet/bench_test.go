package fleet

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/atollgg/atoll/gameserver/sdk"
	gameserver "github.com/atollgg/atoll/gameserver/server"
	"github.com/atollgg/atoll/internal/natstest"
	"github.com/atollgg/atoll/internal/tokens"
)

// inprocBackend is a TEST backend for BenchmarkAllocate only: each "process"
// is a goroutine running the real game-server library (gameserver/server.Run)
// on a real port, speaking the real SDK over HTTP to the fleet. It saves the
// benchmark a fork+exec per allocation without faking anything the
// allocation path touches.
type inprocBackend struct {
	game gameserver.NewGameFunc
	wg   sync.WaitGroup
}

func (b *inprocBackend) Start(_ context.Context, spec Spec) (Process, error) {
	env := map[string]string{}
	for _, kv := range spec.Env {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	cfg, err := gameserver.ConfigFromEnv(func(k string) string { return env[k] })
	if err != nil {
		return nil, err
	}
	cfg.NewGame = b.game
	ctx, cancel := context.WithCancel(context.Background())
	p := &inprocProcess{name: spec.ID, cancel: cancel, exited: make(chan struct{})}
	b.wg.Add(1)
	go func() { // owned by p: ends when Run returns (its match is over or p is stopped)
		defer b.wg.Done()
		err := gameserver.Run(ctx, cfg)
		p.reason = fmt.Sprintf("returned %v", err)
		close(p.exited)
	}()
	return p, nil
}

func (b *inprocBackend) Adopt(context.Context, ProcessRef) (Process, error) {
	return nil, ErrProcessGone
}

type inprocProcess struct {
	name   string
	cancel context.CancelFunc
	exited chan struct{}
	reason string // written before exited is closed
}

func (p *inprocProcess) Ref() ProcessRef         { return ProcessRef{Name: p.name} }
func (p *inprocProcess) Exited() <-chan struct{} { return p.exited }
func (p *inprocProcess) ExitReason() string      { return p.reason }
func (p *inprocProcess) Stop() error             { p.cancel(); return nil }
func (p *inprocProcess) Kill() error             { p.cancel(); return nil }

// instantGame ends as soon as it starts, so allocated servers free their
// slot at once and the benchmark measures allocation, not games.
type instantGame struct{}

func (instantGame) Play(_ context.Context, room *gameserver.Room) (gameserver.Outcome, error) {
	now := time.Now()
	out := gameserver.Outcome{StartedAt: now, EndedAt: now}
	for _, p := range room.Match().Players {
		out.Players = append(out.Players, sdk.PlayerResult{PlayerID: p.ID})
	}
	return out, nil
}

// BenchmarkAllocate measures one allocation from the warm pool: picking a
// Ready server, persisting the allocation in the (embedded JetStream) KV
// and waking the server's long-poll. Refilling the pool is excluded from
// the timing; it runs concurrently, as it does in a cell.
func BenchmarkAllocate(b *testing.B) {
	_, js := natstest.Start(b)
	ring := tokens.NewKeyRing()
	backend := &inprocBackend{game: func(gameserver.Match) (gameserver.Game, error) { return instantGame{}, nil }}
	pmin := 40000 + rand.IntN(100)*100
	f, err := New(Config{
		Backend:         backend,
		PortMin:         pmin,
		PortMax:         pmin + 99,
		Buffer:          16,
		Max:             48,
		HeartbeatPeriod: time.Second,
		ConnectKeys:     ring.JWKS,
		Issuer:          testIssuer,
		KV:              natstest.KeyValue(b, js, "bench"),
	})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	if err := f.Start(ctx); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		dctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
		defer cancel()
		if err := f.Drain(dctx); err != nil {
			b.Errorf("drain: %v", err)
		}
		backend.wg.Wait()
	})
	go func() { // consumes events like the cell does; ends when Shutdown closes them
		for range f.Events() {
		}
	}()
	readyNow := func() int {
		f.mu.RLock()
		defer f.mu.RUnlock()
		return len(f.ready)
	}
	waitPool := func(n int) {
		// Polled outside the timer; the pool refills concurrently.
		deadline := time.Now().Add(waitTimeout)
		tick := time.NewTicker(200 * time.Microsecond) // far below a server's start time
		defer tick.Stop()
		for readyNow() < n {
			if time.Now().After(deadline) {
				b.Fatalf("warm pool did not reach %d ready servers", n)
			}
			<-tick.C
		}
	}
	waitPool(16)
	players := []Player{{ID: "p1", Team: 1}, {ID: "p2", Team: 2}}
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := range b.N {
		if readyNow() == 0 {
			b.StopTimer()
			waitPool(1)
			b.StartTimer()
		}
		start := time.Now()
		if _, err := f.Allocate(ctx, Match{SessionID: fmt.Sprintf("bench-%d", i), Mode: "duel", Players: players}); err != nil {
			b.Fatalf("allocate %d: %v", i, err)
		}
		lat = append(lat, time.Since(start))
	}
	b.StopTimer()
	slices.Sort(lat)
	pct := func(p float64) float64 { return float64(lat[min(len(lat)-1, int(float64(len(lat))*p))].Nanoseconds()) }
	b.ReportMetric(pct(0.50), "p50-ns")
	b.ReportMetric(pct(0.99), "p99-ns")
}
