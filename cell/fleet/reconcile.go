package fleet

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/atollgg/atoll/gameserver/sdk"
	"github.com/google/uuid"
)

// Crash-loop backoff: after a server dies before Ready, the next start
// waits startBackoffInitial, doubling per consecutive failure up to
// startBackoffMax, so a broken build or config costs a fork every 30 s,
// not a fork storm. One server Ready resets it.
const (
	startBackoffInitial = 250 * time.Millisecond
	startBackoffMax     = 30 * time.Second
)

func startBackoff(failures int) time.Duration {
	d := startBackoffInitial
	for i := 1; i < failures && d < startBackoffMax; i++ {
		d *= 2
	}
	return min(d, startBackoffMax)
}

// secretBytes is the entropy of a server's SDK secret: 256 bits.
const secretBytes = 32

// loop is the fleet's control loop: health checks and scaling, at every
// tick and whenever something changes.
func (f *Fleet) loop() {
	// Checking twice per heartbeat period detects a silent server within
	// half a period of its deadline.
	t := time.NewTicker(f.cfg.HeartbeatPeriod / 2)
	defer t.Stop()
	for {
		select {
		case <-f.runCtx.Done():
			return
		case <-f.wake:
		case <-t.C:
		}
		now := time.Now()
		f.checkHealth(now)
		f.reconcile(now)
	}
}

// checkHealth marks silent or never-ready servers Unhealthy and kills them,
// and kills stopping servers that overstay StopGrace.
func (f *Fleet) checkHealth(now time.Time) {
	deadline := f.cfg.HeartbeatPeriod * time.Duration(f.cfg.FailureThreshold)
	var kill, save []*server
	f.mu.Lock()
	for _, s := range f.servers {
		if s.exited || s.proc == nil {
			continue
		}
		switch s.state {
		case StateStarting:
			if now.Sub(s.createdAt) > f.cfg.StartTimeout {
				f.unhealthyLocked(s, fmt.Sprintf("not ready within %v", f.cfg.StartTimeout), "start_timeout", now)
				kill, save = append(kill, s), append(save, s)
			}
		case StateReady, StateAllocated:
			if silent := now.Sub(time.Unix(0, s.lastBeat.Load())); silent > deadline {
				f.unhealthyLocked(s, fmt.Sprintf("no heartbeat for %v", silent.Round(time.Millisecond)), "unhealthy", now)
				kill, save = append(kill, s), append(save, s)
			}
		case StateUnhealthy:
			if !s.killed {
				s.killed = true
				kill = append(kill, s)
			}
		case StateShutdown:
			if !s.killed && now.Sub(s.stopAt) > f.cfg.StopGrace {
				s.killed = true
				s.keepLog = true
				kill = append(kill, s)
			}
		}
	}
	f.mu.Unlock()
	for _, s := range kill {
		f.log.Warn("killing game server", "server", s.id)
		f.signal(s, true)
	}
	for _, s := range save {
		f.save(s)
	}
}

// unhealthyLocked marks s Unhealthy and fails its session; the caller
// saves and kills it.
func (f *Fleet) unhealthyLocked(s *server, reason, metric string, now time.Time) {
	f.log.Warn("game server unhealthy", "server", s.id, "reason", reason)
	f.metrics.failures.WithLabelValues(metric).Inc()
	f.unreadyLocked(s)
	s.state = StateUnhealthy
	s.stopAt = now
	s.killed = true
	s.keepLog = true
	s.notifyLocked()
	f.decideOutcomeLocked(s, "server unhealthy: "+reason, now)
}

// reconcile starts servers until Buffer are Ready or starting (within Min
// and Max), and stops surplus Ready servers idle for ScaleDownDelay.
func (f *Fleet) reconcile(now time.Time) {
	f.mu.Lock()
	if f.life != lifeRunning {
		f.mu.Unlock()
		return
	}
	starting, ready, live := 0, 0, 0
	for _, s := range f.servers {
		if s.exited || s.state == StateShutdown || s.state == StateUnhealthy {
			continue
		}
		live++
		switch {
		case s.state == StateStarting:
			starting++
		case s.state == StateReady && !s.reserved:
			ready++
		}
	}
	total := len(f.servers)
	want := f.cfg.Buffer - (ready + starting)
	want = max(want, f.cfg.Min-live)
	want = min(want, f.cfg.Max-total)
	if f.startFailures > 0 {
		// Crash loop: one attempt at a time, after the backoff.
		want = min(want, 1-starting)
		if now.Before(f.nextStartAt) {
			want = 0
		}
	}
	var stop []*server
	for surplus := len(f.ready) - f.cfg.Buffer; surplus > 0 && live > f.cfg.Min; surplus-- {
		s := f.ready[0] // idle longest
		if now.Sub(s.readyAt) < f.cfg.ScaleDownDelay {
			break
		}
		f.stopLocked(s, now)
		stop = append(stop, s)
		live--
	}
	f.mu.Unlock()
	for _, s := range stop {
		f.log.Info("scaling down idle game server", "server", s.id)
		f.save(s)
		f.signal(s, false)
	}
	for range want {
		if !f.startServer() {
			break
		}
	}
}

// startServer starts one server and reports whether it did.
func (f *Fleet) startServer() bool {
	port, ok := f.reservePort()
	if !ok {
		f.log.Error("no free game port", "min", f.cfg.PortMin, "max", f.cfg.PortMax)
		return false
	}
	var raw [secretBytes]byte
	_, _ = rand.Read(raw[:]) // never fails; see crypto/rand
	secret := base64.RawURLEncoding.EncodeToString(raw[:])
	now := time.Now()
	s := &server{
		id: uuid.NewString(), secretHash: sha256.Sum256([]byte(secret)),
		host: f.cfg.Host, port: port, createdAt: now,
		state: StateStarting, connected: map[string]bool{}, changed: make(chan struct{}),
	}
	s.beat(now)
	// Registered before the process runs: its first SDK call may come
	// before Start returns.
	f.mu.Lock()
	if f.life != lifeRunning {
		delete(f.ports, port)
		f.mu.Unlock()
		return false
	}
	f.servers[s.id] = s
	f.mu.Unlock()

	proc, err := f.backend.Start(f.runCtx, Spec{ID: s.id, Port: port, Env: f.serverEnv(s.id, secret, port)})
	if err != nil {
		f.log.Error("start game server", "server", s.id, "err", err)
		f.mu.Lock()
		delete(f.servers, s.id)
		delete(f.ports, port)
		f.startFailures++
		f.nextStartAt = time.Now().Add(startBackoff(f.startFailures))
		f.mu.Unlock()
		f.metrics.failures.WithLabelValues("start_failed").Inc()
		return false
	}
	f.mu.Lock()
	s.proc = proc
	f.mu.Unlock()
	f.save(s)
	f.watch(s, proc)
	f.log.Info("started game server", "server", s.id, "port", port, "pid", proc.Ref().PID)
	return true
}

// serverEnv is the environment of a new server.
func (f *Fleet) serverEnv(id, secret string, port int) []string {
	env := []string{
		sdk.EnvSDKAddr + "=" + f.SDKAddr(),
		sdk.EnvSDKSecret + "=" + secret,
		sdk.EnvServerID + "=" + id,
		sdk.EnvGamePort + "=" + strconv.Itoa(port),
		sdk.EnvGameHost + "=" + f.cfg.Host,
		sdk.EnvHeartbeatPeriod + "=" + f.cfg.HeartbeatPeriod.String(),
	}
	return append(env, f.cfg.Env...)
}

// reservePort picks the next port of the range, round robin so a port just
// released rests a while, that no server holds and nothing else listens on.
func (f *Fleet) reservePort() (int, bool) {
	n := f.cfg.PortMax - f.cfg.PortMin + 1
	for range n {
		f.mu.Lock()
		p := f.cfg.PortMin + f.nextPort%n
		f.nextPort++
		taken := f.ports[p]
		if !taken {
			f.ports[p] = true
		}
		f.mu.Unlock()
		if taken {
			continue
		}
		if portFree(p) {
			return p, true
		}
		f.mu.Lock()
		delete(f.ports, p)
		f.mu.Unlock()
	}
	return 0, false
}

// portFree reports whether p can be bound on every interface, which also
// fails if anything holds p on a single one.
func portFree(p int) bool {
	ln, err := net.Listen("tcp", ":"+strconv.Itoa(p))
	if err != nil {
		return false
	}
	_ = ln.Close()
	return true
}
