package netnstest

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// Available says why namespaces cannot be made here, or "" if they can.
func Available() string {
	if os.Geteuid() != 0 {
		return "network namespaces need root"
	}
	if _, err := exec.LookPath("ip"); err != nil {
		return "iproute2 (ip) is not installed"
	}
	return ""
}

// IP runs `ip args...`, failing the test on error.
func IP(t testing.TB, args ...string) {
	t.Helper()
	out, err := exec.Command("ip", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("ip %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// Net is a set of namespaces on one bridge: every member reaches every
// other on 10.77.0.0/24.
type Net struct {
	t      testing.TB
	prefix string
	hub    string
	n      int
	links  map[string][2]string // member name -> its veth end, the hub's end
}

// NewNet creates the hub namespace with its bridge; everything is removed
// in t.Cleanup.
func NewNet(t testing.TB) *Net {
	t.Helper()
	p := fmt.Sprintf("atl%d", os.Getpid()%100000)
	n := &Net{t: t, prefix: p, hub: p + "hub", links: map[string][2]string{}}
	IP(t, "netns", "add", n.hub)
	t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", n.hub).Run() })
	IP(t, "-n", n.hub, "link", "add", "br0", "type", "bridge")
	IP(t, "-n", n.hub, "link", "set", "br0", "up")
	return n
}

// Add creates namespace name joined to the bridge with address ip (in
// 10.77.0.0/24) and returns its full name.
func (n *Net) Add(name, ip string) string {
	t := n.t
	t.Helper()
	n.n++
	ns := n.prefix + name
	IP(t, "netns", "add", ns)
	t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", ns).Run() })
	in, out := fmt.Sprintf("%sv%d", n.prefix, n.n), fmt.Sprintf("%sb%d", n.prefix, n.n)
	IP(t, "link", "add", in, "type", "veth", "peer", "name", out)
	IP(t, "link", "set", in, "netns", ns)
	IP(t, "link", "set", out, "netns", n.hub)
	IP(t, "-n", n.hub, "link", "set", out, "master", "br0")
	IP(t, "-n", n.hub, "link", "set", out, "up")
	IP(t, "-n", ns, "addr", "add", ip+"/24", "dev", in)
	IP(t, "-n", ns, "link", "set", in, "up")
	IP(t, "-n", ns, "link", "set", "lo", "up")
	n.links[name] = [2]string{in, out}
	return ns
}

// NetemAvailable reports whether the kernel has the netem qdisc (many
// here do not: "Specified qdisc kind is unknown"), trying it in a scratch
// namespace.
func (n *Net) NetemAvailable() bool {
	if _, err := exec.LookPath("tc"); err != nil {
		return false
	}
	ns := n.prefix + "nq"
	if exec.Command("ip", "netns", "add", ns).Run() != nil {
		return false
	}
	defer exec.Command("ip", "netns", "del", ns).Run()
	return exec.Command("ip", "netns", "exec", ns, "tc", "qdisc", "add", "dev", "lo", "root", "netem", "delay", "1ms").Run() == nil
}

// Delay makes member name oneWay away from the bridge in each direction
// with netem (see NetemAvailable).
func (n *Net) Delay(name string, oneWay time.Duration) {
	t := n.t
	t.Helper()
	l, ok := n.links[name]
	if !ok {
		t.Fatalf("netnstest: no member %q", name)
	}
	d := fmt.Sprintf("%dus", oneWay.Microseconds())
	for _, end := range []struct{ ns, dev string }{{n.prefix + name, l[0]}, {n.hub, l[1]}} {
		out, err := exec.Command("tc", "-n", end.ns, "qdisc", "add", "dev", end.dev, "root", "netem", "delay", d).CombinedOutput()
		if err != nil {
			t.Fatalf("tc netem on %s/%s: %v\n%s", end.ns, end.dev, err, out)
		}
	}
}
