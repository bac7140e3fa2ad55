package devstack

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/atollgg/atoll/topology"
	"gopkg.in/yaml.v3"
)

// devTopology is what Start derives from the example world: the same
// regions and locations, every address a free loopback port of this
// machine.
type devTopology struct {
	dir    string          // the folder written for the core and relays
	world  *topology.World // as loaded back from dir
	global string          // the core's listen host:port
	leaf   int             // the hub's leaf port
	cells  []devCell
	relays []devRelay
}

type devCell struct {
	id, region string
	index      int    // region index: home of 127.0.<index+1>.1
	addr       string // listen host:port (the api_url; not delayed)
	keyFile    string // the region's forward key
	relay      string // the region relay's delayed public host:port
}

type devRelay struct {
	id, region       string
	index            int
	httpAddr, beacon string // where the relay binds
	publicHTTP       string // delayed front of httpAddr (its topology url)
	publicBeacon     string // delayed front of beacon (its topology beacon)
}

// freePort returns a loopback port free right now.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// freeAddr is freePort as host:port; UDP addresses take the same number,
// which is almost always free too.
func freeAddr() (string, error) {
	p, err := freePort()
	if err != nil {
		return "", err
	}
	return "127.0.0.1:" + strconv.Itoa(p), nil
}

// writeTopology lays the example world (src) out on free ports in dir.
// With globalAddr empty the core takes a free port too.
func writeTopology(src, dir, globalAddr string) (*devTopology, error) {
	ex, err := topology.Load(src)
	if err != nil {
		return nil, fmt.Errorf("example topology %s: %w", src, err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	t := &devTopology{dir: dir, global: globalAddr}
	if t.global == "" {
		if t.global, err = freeAddr(); err != nil {
			return nil, err
		}
	}
	if t.leaf, err = freePort(); err != nil {
		return nil, err
	}
	core := topology.Core{APIURL: "http://" + t.global, HubURL: "nats-leaf://127.0.0.1:" + strconv.Itoa(t.leaf)}
	if err := writeYAML(filepath.Join(dir, "core.yaml"), map[string]any{"version": topology.FormatVersion, "core": core}); err != nil {
		return nil, err
	}
	for i, r := range ex.Regions {
		key := make([]byte, 32)
		_, _ = rand.Read(key)
		keyFile := filepath.Join(dir, "..", "forward-"+r.ID+".key")
		if err := os.WriteFile(keyFile, []byte(hex.EncodeToString(key)), 0o600); err != nil {
			return nil, err
		}
		out := topology.Region{ID: r.ID, Name: r.Name, Location: r.Location, Fallback: r.Fallback}
		var relayFront string
		for _, rl := range r.Relays {
			d := devRelay{id: rl.ID, region: r.ID, index: i}
			for _, p := range []*string{&d.httpAddr, &d.beacon, &d.publicHTTP, &d.publicBeacon} {
				if *p, err = freeAddr(); err != nil {
					return nil, err
				}
			}
			if relayFront == "" {
				relayFront = d.publicHTTP
			}
			t.relays = append(t.relays, d)
			out.Relays = append(out.Relays, topology.Relay{ID: rl.ID, Beacon: d.publicBeacon, URL: "http://" + d.publicHTTP, Weight: rl.Weight})
		}
		for _, c := range r.Cells {
			d := devCell{id: c.ID, region: r.ID, index: i, keyFile: keyFile, relay: relayFront}
			if d.addr, err = freeAddr(); err != nil {
				return nil, err
			}
			t.cells = append(t.cells, d)
			out.Cells = append(out.Cells, topology.Cell{ID: c.ID, APIURL: "http://" + d.addr, Capacity: c.Capacity})
		}
		if err := writeYAML(filepath.Join(dir, r.ID+".yaml"), map[string]any{"version": topology.FormatVersion, "region": out}); err != nil {
			return nil, err
		}
	}
	if t.world, err = topology.Load(dir); err != nil {
		return nil, fmt.Errorf("dev topology: %w", err)
	}
	return t, nil
}

func writeYAML(path string, v any) error {
	b, err := yaml.Marshal(v)
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o600)
}

// since formats a duration for the progress table.
func since(d time.Duration) string {
	if d <= 0 {
		return "-"
	}
	return d.Round(10 * time.Millisecond).String()
}
