package devstack

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Consul in the dev world: a dev-mode agent when a consul binary is at hand
// (ATOLL_CONSUL_BIN, or where internal/tools/consul/build.sh caches it:
// $ATOLL_CACHE_DIR or ~/.cache/atoll, consul-*/consul). Without one the world
// runs without Consul: relays probe the cells' /readyz instead.
const (
	// consulReadyTimeout bounds waiting for the agent to elect itself and
	// for every cell's health check to pass (5 s interval).
	consulReadyTimeout = 30 * time.Second
	// consulPoll paces those waits.
	consulPoll = 200 * time.Millisecond
	// consulStopGrace is how long the agent gets after SIGTERM before it is
	// killed (a dev agent stops in about 100 ms).
	consulStopGrace = 5 * time.Second
)

// consulBinary finds a consul binary, or "".
func consulBinary() string {
	if p := os.Getenv("ATOLL_CONSUL_BIN"); p != "" {
		return p
	}
	dir := os.Getenv("ATOLL_CACHE_DIR")
	if dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return ""
		}
		dir = filepath.Join(home, ".cache", "atoll")
	}
	found, _ := filepath.Glob(filepath.Join(dir, "consul-*", "consul"))
	if len(found) == 0 {
		return ""
	}
	return found[len(found)-1]
}

// consulAgent is a running dev-mode agent.
type consulAgent struct {
	Addr   string
	cmd    *exec.Cmd
	exited chan struct{}
}

// startConsul starts a dev agent on free loopback ports, logging to dir,
// and waits until it has a leader.
func startConsul(ctx context.Context, bin, dir string) (*consulAgent, error) {
	ports := make([]int, 4)
	for i := range ports {
		p, err := freePort()
		if err != nil {
			return nil, err
		}
		ports[i] = p
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	logf, err := os.Create(filepath.Join(dir, "consul.log"))
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	cmd := exec.Command(bin, "agent", "-dev", "-node=atoll-dev", "-bind=127.0.0.1", "-client=127.0.0.1",
		"-http-port="+strconv.Itoa(ports[0]), "-dns-port=-1", "-grpc-port=-1",
		"-serf-lan-port="+strconv.Itoa(ports[1]), "-serf-wan-port="+strconv.Itoa(ports[2]),
		"-server-port="+strconv.Itoa(ports[3]), "-disable-host-node-id", "-hcl=disable_update_check = true", "-hcl=ports { grpc_tls = -1 }")
	cmd.Stdout, cmd.Stderr = logf, logf
	// Its own process group, so a Ctrl-C aimed at `atoll dev` reaches the
	// agent only through Stop, in order.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start consul: %w", err)
	}
	a := &consulAgent{Addr: "127.0.0.1:" + strconv.Itoa(ports[0]), cmd: cmd, exited: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(a.exited) }() // reaps the agent
	if err := a.until(ctx, func() (bool, error) {
		body, err := a.get(ctx, "/v1/status/leader")
		return err == nil && strings.Contains(body, ":"), nil
	}); err != nil {
		a.Stop()
		return nil, fmt.Errorf("consul agent (log %s): %w", logf.Name(), err)
	}
	return a, nil
}

// waitPassing waits until n instances of service pass their checks.
func (a *consulAgent) waitPassing(ctx context.Context, service string, n int) error {
	return a.until(ctx, func() (bool, error) {
		body, err := a.get(ctx, "/v1/health/service/"+service+"?passing=true")
		return err == nil && strings.Count(body, `"ServiceID"`) >= n, nil
	})
}

func (a *consulAgent) until(ctx context.Context, ok func() (bool, error)) error {
	ctx, cancel := context.WithTimeout(ctx, consulReadyTimeout)
	defer cancel()
	for {
		done, err := ok()
		if err != nil {
			return err
		}
		if done {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-a.exited:
			return errors.New("consul exited")
		case <-time.After(consulPoll):
		}
	}
}

func (a *consulAgent) get(ctx context.Context, path string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+a.Addr+path, nil)
	if err != nil {
		return "", err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("consul %s: %d", path, resp.StatusCode)
	}
	return string(b), err
}

// Stop ends the agent: SIGTERM, then SIGKILL after consulStopGrace.
func (a *consulAgent) Stop() {
	_ = a.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-a.exited:
	case <-time.After(consulStopGrace):
		_ = syscall.Kill(-a.cmd.Process.Pid, syscall.SIGKILL)
		<-a.exited
	}
}
