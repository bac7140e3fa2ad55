package arenagame_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/atollgg/atoll/gameserver/arena"
	"github.com/atollgg/atoll/gameserver/arenagame"
	"github.com/atollgg/atoll/gameserver/client"
	"github.com/atollgg/atoll/gameserver/server"
	"github.com/atollgg/atoll/stacktest"
)

// clockTicksPerSecond is Linux's USER_HZ, the unit of /proc/<pid>/stat's
// CPU times: 100 on every architecture Go supports.
const clockTicksPerSecond = 100

// processCPU returns a process's user+system CPU time.
func processCPU(pid int) (time.Duration, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// Fields after the command name (in parentheses, which may hold
	// spaces): state is field 3, utime 14, stime 15.
	i := strings.LastIndexByte(string(data), ')')
	f := strings.Fields(string(data[i+1:]))
	if len(f) < 13 {
		return 0, fmt.Errorf("short /proc/%d/stat", pid)
	}
	u, err1 := strconv.ParseInt(f[11], 10, 64)
	s, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("parse /proc/%d/stat", pid)
	}
	return time.Duration(u+s) * time.Second / clockTicksPerSecond, nil
}

// BenchmarkMatch64BotsOverWebSockets plays full matches of 64 bots against
// a real game-server process (`atoll-gameserver`, 60 Hz ticks, 30 Hz delta
// snapshots) over real WebSockets on loopback, and reports the server's
// CPU per tick (user+system, from /proc, so it includes WebSocket I/O,
// decoding, the simulation, encoding and GC) and the snapshot traffic per
// player. The 64 clients share the machine with it. Run with
// -benchtime=1x: each iteration is one match of benchMatch.
func BenchmarkMatch64BotsOverWebSockets(b *testing.B) {
	const (
		benchMatch   = 10 * time.Second
		tickRate     = 60
		snapshotRate = 30
		players      = arena.MaxPlayers
	)
	bin := filepath.Join(b.TempDir(), "atoll-gameserver")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/atollgg/atoll/gameserver/cmd/atoll-gameserver").CombinedOutput(); err != nil {
		b.Fatalf("build: %v\n%s", err, out)
	}
	env := stacktest.Start(b, stacktest.Options{Command: []string{bin}, Env: []string{
		arenagame.EnvTickRate + "=" + strconv.Itoa(tickRate),
		arenagame.EnvSnapshotRate + "=" + strconv.Itoa(snapshotRate),
		arenagame.EnvScoreLimit + "=" + strconv.Itoa(arena.MaxScoreLimit),
		server.EnvGameDuration + "=" + benchMatch.String(),
	}})
	ids := make([]string, players)
	for i := range ids {
		ids[i] = fmt.Sprintf("bot-%02d", i)
	}
	var cpuPerTick, bytesPerSec, maxMean float64
	for b.Loop() {
		session, alloc := env.Allocate(b, ids...)
		pid := 0
		for _, s := range env.Fleet.Servers() {
			if s.SessionID == session {
				pid = s.PID
			}
		}
		if pid == 0 {
			b.Fatal("no pid for the allocated server")
		}
		ctx, cancel := context.WithTimeout(context.Background(), stacktest.WaitTimeout)
		results := make([]client.Result, players)
		errs := make([]error, players)
		started := make(chan struct{}, players)
		var wg sync.WaitGroup
		for i, id := range ids {
			wg.Add(1)
			go func() {
				defer wg.Done()
				conn, err := client.Dial(ctx, stacktest.URL(alloc), env.Token(b, alloc, id), client.Options{})
				if err != nil {
					errs[i] = err
					return
				}
				w := conn.Welcome()
				bot, err := client.NewBot(w.Config, w.Player, uint64(i))
				if err != nil {
					errs[i] = err
					return
				}
				started <- struct{}{}
				results[i], errs[i] = conn.Play(ctx, bot)
			}()
		}
		// Sample the server's CPU from when everyone is in until the
		// process is gone; the last sample before the end counts.
		for range players {
			<-started
		}
		cpu0, err := processCPU(pid)
		if err != nil {
			b.Fatal(err)
		}
		t0 := time.Now()
		var cpu1 time.Duration
		var t1 time.Time
		done := make(chan struct{})
		go func() { wg.Wait(); close(done) }()
		tick := time.NewTicker(250 * time.Millisecond)
	sampling:
		for {
			select {
			case <-done:
				break sampling
			case <-tick.C:
				if c, err := processCPU(pid); err == nil {
					cpu1, t1 = c, time.Now()
				}
			}
		}
		tick.Stop()
		cancel()
		for i, err := range errs {
			if err != nil {
				b.Fatalf("bot %d: %v", i, err)
			}
		}
		ticks := t1.Sub(t0).Seconds() * tickRate
		cpuPerTick = float64(cpu1-cpu0) / float64(time.Microsecond) / ticks
		var in uint64
		var secs float64
		for _, r := range results {
			in += r.Stats.BytesIn
			secs += r.Stats.PlayDuration.Seconds()
			maxMean = max(maxMean, r.Prediction.MeanError())
		}
		bytesPerSec = float64(in) / secs
		env.SessionEnd(b, session)
	}
	b.ReportMetric(cpuPerTick, "server-µs/tick")
	b.ReportMetric(cpuPerTick*tickRate/1e6*100, "%core@60Hz")
	b.ReportMetric(bytesPerSec, "B/s/player@30Hz")
	b.ReportMetric(maxMean, "worst-mean-pred-err")
}
