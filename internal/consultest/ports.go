package consultest

import (
	"fmt"
	"io"
	"net"
)

// freePorts returns n distinct loopback ports that were free for both TCP and
// UDP a moment ago: Consul's serf and DNS listeners bind both protocols on
// one port. All probes stay bound until every port is chosen, so the ports
// are distinct; another process can still take one before Consul binds it,
// which start handles by retrying.
func freePorts(n int) ([]int, error) {
	var held []io.Closer
	defer func() {
		for _, c := range held {
			c.Close()
		}
	}()

	// maxProbes bounds the search: a port whose UDP twin is taken is skipped,
	// and on a sane machine almost every ephemeral port is free.
	maxProbes := 20 * n
	ports := make([]int, 0, n)
	var udpErr error
	for probe := 0; len(ports) < n; probe++ {
		if probe == maxProbes {
			return nil, fmt.Errorf("find %d free loopback ports: gave up after %d probes (last udp error: %w)", n, maxProbes, udpErr)
		}
		tl, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("find free loopback port: %w", err)
		}
		held = append(held, tl)
		port := tl.Addr().(*net.TCPAddr).Port
		ul, err := net.ListenPacket("udp", fmt.Sprintf("127.0.0.1:%d", port))
		if err != nil {
			udpErr = err
			continue // UDP twin in use: try another port
		}
		held = append(held, ul)
		ports = append(ports, port)
	}
	return ports, nil
}
