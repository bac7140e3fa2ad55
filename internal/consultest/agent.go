// Package consultest runs real Consul agents (dev mode, loopback only) for tests.
package consultest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/consul/api"
)

const (
	// nodeName is the agent's node name; every agent is its own datacenter,
	// so the name never has to be unique.
	nodeName = "atoll-consultest"

	// startAttempts bounds retries with fresh ports: a port found free can be
	// taken by another process before Consul binds it, and a new set of ports
	// makes that race harmless. Three attempts make a repeat vanishingly rare.
	startAttempts = 3

	// readyTimeout bounds the wait for leader election and the node's catalog
	// registration. A dev agent is ready in well under a second; a 2-core
	// machine running several race-enabled test binaries can be many times
	// slower, and a broken agent still fails the test within a minute.
	readyTimeout = 60 * time.Second

	// readyPollInterval is how often readiness is probed: short enough to add
	// little to each test, long enough not to busy the agent.
	readyPollInterval = 50 * time.Millisecond

	// probeTimeout bounds one readiness request so a wedged agent cannot
	// stall the poll loop past readyTimeout.
	probeTimeout = 2 * time.Second

	// stopGrace is how long a SIGTERMed agent gets to shut down before it is
	// killed; a dev agent takes about 100ms.
	stopGrace = 10 * time.Second

	// killWait bounds the wait for the process to be reaped after SIGKILL,
	// which the kernel delivers at once; past it something is badly wrong.
	killWait = 5 * time.Second

	// logTailBytes is how much of the end of the agent's log goes into
	// failure messages: enough for the shutdown or bind error and the lines
	// leading to it, short enough to read in test output.
	logTailBytes = 8 << 10
)

// errPortTaken marks a start that failed because another process bound one
// of the chosen ports first; start retries those with fresh ports.
var errPortTaken = errors.New("a chosen port was taken before consul bound it")

// Agent is a running Consul agent in dev mode (a single server that elects
// itself leader, all state in memory) listening on loopback only.
type Agent struct {
	// Addr is the host:port of the agent's HTTP API.
	Addr string
	// Client talks to the agent's HTTP API.
	Client *api.Client

	proc *process
}

// Start starts a Consul agent for the calling test, waits until it has
// elected itself leader and registered its node, and stops it in
// t.Cleanup. The binary is taken from ATOLL_CONSUL_BIN, else from the cache
// that internal/tools/consul/build.sh fills, else built with that script
// (a cold build takes minutes, so run the script before `go test` to keep
// it out of the test timeout).
func Start(t testing.TB) *Agent {
	t.Helper()
	a, err := start(t.TempDir())
	if err != nil {
		t.Fatalf("consultest: %v", err)
	}
	t.Cleanup(func() {
		forced, err := a.proc.stop()
		switch {
		case err != nil:
			t.Errorf("consultest: %v", err)
		case forced:
			t.Logf("consultest: agent ignored SIGTERM for %s and was killed; log tail:\n%s", stopGrace, a.proc.logTail())
		case t.Failed():
			t.Logf("consultest: agent log tail (%s):\n%s", a.proc.logPath, a.proc.logTail())
		}
	})
	return a
}

// start starts an agent whose files live under dir and waits until it is
// ready; the caller owns stopping it.
func start(dir string) (*Agent, error) {
	bin, err := binary()
	if err != nil {
		return nil, err
	}
	for attempt := 1; ; attempt++ {
		a, err := launch(bin, dir)
		if err == nil {
			return a, nil
		}
		if !errors.Is(err, errPortTaken) {
			return nil, err
		}
		if attempt == startAttempts {
			return nil, fmt.Errorf("%d attempts, each with fresh ports: %w", attempt, err)
		}
	}
}

// launch makes one attempt at starting an agent on fresh ports.
func launch(bin, dir string) (*Agent, error) {
	p, err := freePorts(5)
	if err != nil {
		return nil, fmt.Errorf("start consul agent: %w", err)
	}
	httpPort, dnsPort, serfLAN, serfWAN, serverPort := p[0], p[1], p[2], p[3], p[4]

	dataDir := filepath.Join(dir, "data")
	// A retry must not inherit the failed attempt's node ID or state.
	if err := os.RemoveAll(dataDir); err != nil {
		return nil, fmt.Errorf("start consul agent: clear data dir: %w", err)
	}
	cfgPath := filepath.Join(dir, "consul.json")
	if err := writeConfig(cfgPath, agentConfig{
		NodeName:           nodeName,
		DataDir:            dataDir,
		BindAddr:           "127.0.0.1",
		ClientAddr:         "127.0.0.1",
		AdvertiseAddr:      "127.0.0.1",
		DisableUpdateCheck: true,
		LogLevel:           "info",
		// Sync every check output change to the catalog at once; Consul's
		// default holds back output-only changes for 5 minutes, so a test
		// reading the health API would see stale output.
		CheckUpdateInterval: "0s",
		Ports: agentPorts{
			HTTP:    httpPort,
			HTTPS:   -1,
			DNS:     dnsPort,
			SerfLAN: serfLAN,
			SerfWAN: serfWAN,
			Server:  serverPort,
			GRPC:    -1,
			GRPCTLS: -1,
		},
	}); err != nil {
		return nil, fmt.Errorf("start consul agent: %w", err)
	}

	logPath := filepath.Join(dir, "consul.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, fmt.Errorf("start consul agent: create log: %w", err)
	}
	cmd := exec.Command(bin, "agent", "-dev", "-config-file="+cfgPath)
	cmd.Dir = dir
	cmd.Stdout = logFile
	cmd.Stderr = logFile
	cmd.SysProcAttr = agentSysProcAttr()
	err = cmd.Start()
	// The child holds its own descriptor; ours is no longer needed.
	logFile.Close()
	if err != nil {
		return nil, fmt.Errorf("start consul agent %s: %w", bin, err)
	}

	addr := fmt.Sprintf("127.0.0.1:%d", httpPort)
	proc := &process{
		cmd:     cmd,
		logPath: logPath,
		exited:  make(chan struct{}),
		// A transport of our own, so stop can close its idle connections
		// and leave no goroutine behind; no proxy, since the agent is local.
		transport: &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 8, IdleConnTimeout: 90 * time.Second},
	}
	go proc.wait()

	client, err := api.NewClient(&api.Config{Address: addr, Scheme: "http", Transport: proc.transport})
	if err != nil {
		proc.stop()
		return nil, fmt.Errorf("start consul agent: api client: %w", err)
	}
	a := &Agent{Addr: addr, Client: client, proc: proc}
	if err := a.waitReady(); err != nil {
		proc.stop()
		return nil, fmt.Errorf("start consul agent on %s: %w; log %s ends:\n%s", addr, err, logPath, proc.logTail())
	}
	return a, nil
}

// waitReady polls until the agent has a raft leader and its own node is in
// the catalog, so health and catalog queries answer at once, or fails when
// the process exits or readyTimeout passes.
func (a *Agent) waitReady() error {
	deadline := time.NewTimer(readyTimeout)
	defer deadline.Stop()
	tick := time.NewTicker(readyPollInterval)
	defer tick.Stop()

	var lastErr error
	for {
		ready, err := a.probe()
		if ready {
			return nil
		}
		if err != nil {
			lastErr = err
		}
		select {
		case <-a.proc.exited:
			err := fmt.Errorf("agent exited before it was ready: %v", a.proc.waitErr)
			if strings.Contains(a.proc.logTail(), "address already in use") {
				return fmt.Errorf("%w: %w", errPortTaken, err)
			}
			return err
		case <-deadline.C:
			if lastErr != nil {
				return fmt.Errorf("agent not ready after %s (last probe: %w)", readyTimeout, lastErr)
			}
			return fmt.Errorf("agent not ready after %s: no leader or node not in catalog", readyTimeout)
		case <-tick.C:
		}
	}
}

// probe reports whether the agent is ready; an error means the agent did not
// answer, which is expected while it is still binding its listeners.
func (a *Agent) probe() (bool, error) {
	ctx, cancel := context.WithTimeout(context.Background(), probeTimeout)
	defer cancel()
	q := (&api.QueryOptions{}).WithContext(ctx)
	leader, err := a.Client.Status().LeaderWithQueryOptions(q)
	if err != nil {
		return false, fmt.Errorf("status/leader: %w", err)
	}
	if leader == "" {
		return false, nil
	}
	node, _, err := a.Client.Catalog().Node(nodeName, q)
	if err != nil {
		return false, fmt.Errorf("catalog/node: %w", err)
	}
	return node != nil && node.Node != nil, nil
}

// agentConfig is the part of Consul's agent configuration file that tests
// set; -dev supplies the rest.
type agentConfig struct {
	NodeName            string     `json:"node_name"`
	DataDir             string     `json:"data_dir"`
	BindAddr            string     `json:"bind_addr"`
	ClientAddr          string     `json:"client_addr"`
	AdvertiseAddr       string     `json:"advertise_addr"`
	DisableUpdateCheck  bool       `json:"disable_update_check"`
	CheckUpdateInterval string     `json:"check_update_interval"`
	LogLevel            string     `json:"log_level"`
	Ports               agentPorts `json:"ports"`
}

// agentPorts lists every listener; -1 disables one.
type agentPorts struct {
	HTTP    int `json:"http"`
	HTTPS   int `json:"https"`
	DNS     int `json:"dns"`
	SerfLAN int `json:"serf_lan"`
	SerfWAN int `json:"serf_wan"`
	Server  int `json:"server"`
	GRPC    int `json:"grpc"`
	GRPCTLS int `json:"grpc_tls"`
}

func writeConfig(path string, cfg agentConfig) error {
	b, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		return fmt.Errorf("encode config: %w", err)
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		return fmt.Errorf("write config: %w", err)
	}
	return nil
}
