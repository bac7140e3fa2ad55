package relay_test

import (
	"bufio"
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/atollgg/atoll/gameserver/client"
	"github.com/atollgg/atoll/internal/tokens"
	"github.com/atollgg/atoll/relay"
	"github.com/atollgg/atoll/relay/netnstest"
	"github.com/atollgg/atoll/topology"
)

// The routing test runs its parts as this test binary re-executed inside
// namespaces (`ip netns exec NS <binary> -test.run TestNetnsHelper`), so
// every socket of a part lives in its namespace.
const roleEnv = "ATOLL_NETNS_ROLE"

// Fixed ports inside each region's namespace (namespaces do not share
// ports) and the core's JWKS on each namespace's loopback.
const (
	beaconPort = 7400
	relayPort  = 8090
	cellPort   = 8081
	corePort   = 18080
)

// routeWait bounds how long the client is re-routed after a change:
// probes every 200 ms, two failures, plus the topology debounce.
const routeWait = 30 * time.Second

var keySeed = strings.Repeat("5a", ed25519.SeedSize)

func coreKeys() *tokens.KeyRing {
	seed, _ := hex.DecodeString(keySeed)
	k, err := tokens.NewKeyRingFromKey(ed25519.NewKeyFromSeed(seed))
	if err != nil {
		panic(err)
	}
	return k
}

// regionFile is a region whose relay and cell sit behind the delaying
// forwarder at ip.
func regionFile(id, ip string) string {
	return fmt.Sprintf(`version: 1
region:
  id: %[1]s
  name: %[1]s
  location: {lat: 0, lon: 0}
  cells: [{id: %[1]s-1, api_url: "http://%[2]s:%[3]d"}]
  relays: [{id: %[1]s-r1, beacon: "%[2]s:%[4]d", url: "http://%[2]s:%[5]d"}]
`, id, ip, cellPort, beaconPort, relayPort)
}

func TestNetnsRouting(t *testing.T) {
	if why := netnstest.Available(); why != "" {
		t.Skipf("skipping the network-namespace routing test: %s", why)
	}
	if testing.Short() {
		t.Skip("skipping the network-namespace routing test in -short mode")
	}
	nets := netnstest.NewNet(t)
	clientNS := nets.Add("cl", "10.77.0.1")
	// Distance comes from netem where the kernel has it, otherwise from
	// the delaying forwarders (which then always run, with no delay
	// under netem).
	netem := nets.NetemAvailable()
	t.Logf("one-way delays by %s", map[bool]string{true: "netem", false: "the delaying forwarders (no netem in this kernel)"}[netem])
	dir := t.TempDir()
	write := func(name, content string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("core.yaml", fmt.Sprintf("version: 1\ncore: {api_url: \"http://127.0.0.1:%d\"}\n", corePort))
	type region struct {
		id, ip string
		delay  time.Duration // one way
	}
	regions := []region{{"eu", "10.77.0.11", 5 * time.Millisecond}, {"us", "10.77.0.12", 40 * time.Millisecond}}
	cells := map[string]*exec.Cmd{}
	start := func(r region) {
		ns := nets.Add(r.id, r.ip)
		write(r.id+".yaml", regionFile(r.id, r.ip))
		forwarderDelay := r.delay
		if netem {
			nets.Delay(r.id, r.delay)
			forwarderDelay = 0
		}
		env := []string{"REGION_IP=" + r.ip, "DELAY=" + forwarderDelay.String(), "TOPO=" + dir, "RELAY_ID=" + r.id + "-r1"}
		cells[r.id] = helper(t, ns, "cell", env)
		helper(t, ns, "region", env)
	}
	for _, r := range regions {
		start(r)
	}
	route := func() clientResult {
		t.Helper()
		return runClient(t, clientNS, dir)
	}
	waitRoute := func(want string) clientResult {
		t.Helper()
		deadline := time.Now().Add(routeWait)
		for {
			res := route()
			if res.First == want {
				return res
			}
			if time.Now().After(deadline) {
				t.Fatalf("client routed to %q, want %q within %s: %+v", res.First, want, routeWait, res)
			}
		}
	}
	res := waitRoute("eu")
	t.Logf("measured %v, routed to %s (%s)", res.Latencies, res.First, res.Reason)
	if res.Latencies["eu"] >= res.Latencies["us"] || res.Latencies["us"] < 80 {
		t.Fatalf("probes did not measure the forwarders' delays: %v", res.Latencies)
	}

	// The nearest region's cell stops: the client goes to the next.
	if err := cells["eu"].Process.Kill(); err != nil {
		t.Fatal(err)
	}
	res = waitRoute("us")
	t.Logf("eu cell stopped: routed to %s (%s)", res.First, res.Reason)

	// A new, nearer region's file appears: clients go there, no restart.
	start(region{"ap", "10.77.0.13", time.Millisecond})
	res = waitRoute("ap")
	t.Logf("ap added: measured %v, routed to %s (%s)", res.Latencies, res.First, res.Reason)
}

// helper starts this test binary in ns in role; it runs until the test
// ends. It returns once the helper printed "ready".
func helper(t *testing.T, ns, role string, env []string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command("ip", "netns", "exec", ns, os.Args[0], "-test.run", "^TestNetnsHelper$", "-test.v")
	cmd.Env = append(append(os.Environ(), roleEnv+"="+role), env...)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "ready") {
			go func() { _, _ = io.Copy(io.Discard, out) }()
			return cmd
		}
	}
	t.Fatalf("%s helper in %s exited before ready", role, ns)
	return nil
}

type clientResult struct {
	Latencies map[string]int `json:"latencies"`
	First     string         `json:"first"`
	Reason    string         `json:"reason"`
	Error     string         `json:"error"`
}

// runClient probes and routes once from the client namespace.
func runClient(t *testing.T, ns, dir string) clientResult {
	t.Helper()
	cmd := exec.Command("ip", "netns", "exec", ns, os.Args[0], "-test.run", "^TestNetnsHelper$")
	cmd.Env = append(os.Environ(), roleEnv+"=client", "TOPO="+dir)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("client: %v\n%s", err, out)
	}
	for _, line := range strings.Split(string(out), "\n") {
		if rest, ok := strings.CutPrefix(line, "result "); ok {
			var r clientResult
			if err := json.Unmarshal([]byte(rest), &r); err != nil {
				t.Fatal(err)
			}
			return r
		}
	}
	t.Fatalf("client printed no result:\n%s", out)
	return clientResult{}
}

// TestNetnsHelper is the parts of TestNetnsRouting; it skips unless run as
// one.
func TestNetnsHelper(t *testing.T) {
	role := os.Getenv(roleEnv)
	if role == "" {
		t.Skip("run by TestNetnsRouting inside a namespace")
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ip := os.Getenv("REGION_IP")
	delay, _ := time.ParseDuration(os.Getenv("DELAY"))
	switch role {
	case "cell":
		// The cell as routing sees it: its readiness behind the region's
		// distance.
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		go func() { _ = http.Serve(ln, http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})) }()
		if _, err := netnstest.DelayTCP(ctx, net.JoinHostPort(ip, strconv.Itoa(cellPort)), ln.Addr().String(), delay); err != nil {
			t.Fatal(err)
		}
	case "region":
		core, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", corePort))
		if err != nil {
			t.Fatal(err)
		}
		go func() { _ = http.Serve(core, coreKeys().JWKSHandler()) }()
		r, err := relay.New(relay.Config{
			RelayID: os.Getenv("RELAY_ID"), TopologyDir: os.Getenv("TOPO"), HTTPAddr: "127.0.0.1:0",
			BeaconAddr: "127.0.0.1:0", BeaconWorkers: 1, CellProbeInterval: 200 * time.Millisecond,
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := r.Start(ctx); err != nil {
			t.Fatal(err)
		}
		defer r.Shutdown(context.Background())
		if _, err := netnstest.DelayUDP(ctx, net.JoinHostPort(ip, strconv.Itoa(beaconPort)), r.Beacon.Addr().String(), delay); err != nil {
			t.Fatal(err)
		}
		if _, err := netnstest.DelayTCP(ctx, net.JoinHostPort(ip, strconv.Itoa(relayPort)), r.Addr(), delay); err != nil {
			t.Fatal(err)
		}
	case "client":
		fmt.Println("result " + clientRun(ctx))
		return
	}
	fmt.Println("ready")
	// Run until the parent kills this process at the end of the test.
	select {}
}

// clientRun reads the regions, probes them from here and asks the nearest
// relay for a route, as a game client does.
func clientRun(ctx context.Context) string {
	fail := func(err error) string {
		b, _ := json.Marshal(clientResult{Error: err.Error()})
		return string(b)
	}
	w, err := topology.Load(os.Getenv("TOPO"))
	if err != nil {
		return fail(err)
	}
	ms := client.ProbeRegions(ctx, w.Public(), client.ProbeConfig{Probes: 5, Timeout: 500 * time.Millisecond})
	var chooser client.RegionChooser
	nearest, _ := chooser.Update(ms)
	r, _ := w.Region(nearest)
	if r == nil {
		return fail(fmt.Errorf("no region reachable: %v", ms))
	}
	tok, _, err := mustIssuer().IssueAccess("player-1", time.Now())
	if err != nil {
		return fail(err)
	}
	api := &client.API{HTTP: &http.Client{Timeout: 10 * time.Second}}
	resp, err := api.Route(ctx, topology.HTTPURL(r.Relays[0].URL, ""), tok, ms)
	res := clientResult{Latencies: client.LatenciesMs(ms)}
	if err != nil {
		res.Error = err.Error()
	} else if len(resp.Cells) > 0 {
		res.First, res.Reason = resp.Cells[0].RegionID, resp.Cells[0].Reason
	}
	b, _ := json.Marshal(res)
	return string(b)
}

func mustIssuer() *tokens.Issuer {
	iss, err := tokens.NewIssuer(tokens.IssuerConfig{Keys: coreKeys(), Issuer: fmt.Sprintf("http://127.0.0.1:%d", corePort), Audience: relay.Audience})
	if err != nil {
		panic(err)
	}
	return iss
}
