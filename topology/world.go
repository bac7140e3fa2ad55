package topology

import "github.com/atollgg/atoll/contract"

// FormatVersion is the only "version" a topology file may declare. A file
// states it so a future format can be told apart instead of misread.
const FormatVersion = 1

// World is a validated topology: the core's endpoints and every region,
// sorted by id. A World is never modified after Load returns it, so it may be
// shared between goroutines.
type World struct {
	Core    Core
	Regions []Region
}

// Core are the global core's endpoints.
type Core struct {
	// APIURL is the core's public HTTP API (http or https).
	APIURL string `yaml:"api_url"`
	// JWKSURL is where players' access-token keys are published; zero means
	// APIURL + "/.well-known/jwks.json".
	JWKSURL string `yaml:"jwks_url"`
	// HubURL is the NATS hub cells join as leaf nodes (nats-leaf or
	// tls); zero means cells run without a hub.
	HubURL string `yaml:"hub_url"`
	at     position
}

// Region is one region: where it is, its cells and its relays.
type Region struct {
	// ID is the region's stable id (lower-case letters, digits, dashes).
	ID string `yaml:"id"`
	// Name is shown to players, e.g. "Europe (Frankfurt)".
	Name string `yaml:"name"`
	// Location places the region on the map.
	Location Location `yaml:"location"`
	// Fallback are the regions to try, in order, when this one has no
	// healthy cell; zero means rank by measured latency alone.
	Fallback []string `yaml:"fallback"`
	Cells    []Cell   `yaml:"cells"`
	Relays   []Relay  `yaml:"relays"`
	// File is the file the region was declared in.
	File        string `yaml:"-"`
	at          position
	fallbackPos [][2]int // line, column of each Fallback entry
}

// Location is a point on the map; City is informational.
type Location struct {
	City string  `yaml:"city"`
	Lat  float64 `yaml:"lat"`
	Lon  float64 `yaml:"lon"`
	at   position
}

// Cell is a regional cell.
type Cell struct {
	// ID is the cell's id, unique in the world (its --cell-id).
	ID string `yaml:"id"`
	// APIURL is the cell's public player API (http or https).
	APIURL string `yaml:"api_url"`
	// LeafCredentials names the NATS leaf credentials the cell joins the
	// hub with, as a reference, never the secret itself: "file:/path" or
	// "env:VARIABLE"; zero means the cell joins without credentials.
	LeafCredentials string `yaml:"leaf_credentials"`
	// Capacity is how many concurrent players the cell takes; zero means
	// unlimited (routing never skips it for load).
	Capacity int `yaml:"capacity"`
	at       position
}

// Relay is a relay: a UDP beacon players ping and a WebSocket endpoint for
// browsers' pings (/ping) and forwarded play (/play).
type Relay struct {
	// ID is the relay's id, unique in the world.
	ID string `yaml:"id"`
	// Beacon is the UDP beacon's host:port.
	Beacon string `yaml:"beacon"`
	// URL is the relay's HTTP/WebSocket base URL (http, https, ws or
	// wss); /ping, /play and /route are served under it.
	URL string `yaml:"url"`
	// Weight is the relay's share of its region's players relative to its
	// siblings; zero means 1.
	Weight int `yaml:"weight"`
	at     position
}

// Region returns the region with the given id.
func (w *World) Region(id string) (*Region, bool) {
	for i := range w.Regions {
		if w.Regions[i].ID == id {
			return &w.Regions[i], true
		}
	}
	return nil, false
}

// CellRegion returns the region a cell belongs to.
func (w *World) CellRegion(cellID string) (*Region, *Cell, bool) {
	for i := range w.Regions {
		r := &w.Regions[i]
		for j := range r.Cells {
			if r.Cells[j].ID == cellID {
				return r, &r.Cells[j], true
			}
		}
	}
	return nil, nil, false
}

// Public is the part of the world players may see: regions, their beacons
// and ping URLs. Cells' addresses and credentials stay private.
func (w *World) Public() contract.Topology {
	t := contract.Topology{Regions: make([]contract.TopologyRegion, 0, len(w.Regions))}
	for _, r := range w.Regions {
		pr := contract.TopologyRegion{ID: r.ID, Name: r.Name, City: r.Location.City, Lat: r.Location.Lat, Lon: r.Location.Lon}
		for _, rl := range r.Relays {
			pr.Relays = append(pr.Relays, contract.TopologyRelay{
				ID: rl.ID, Beacon: rl.Beacon, PingURL: WebSocketURL(rl.URL, "/ping"), Weight: max(rl.Weight, 1),
			})
		}
		t.Regions = append(t.Regions, pr)
	}
	return t
}
