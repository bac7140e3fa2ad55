package contract

// Topology is the public part of the world the global core serves at
// GET /topology: the regions a client should probe and how.
type Topology struct {
	Regions []TopologyRegion `json:"regions"`
}

// TopologyRegion is one region as players see it.
type TopologyRegion struct {
	ID     string          `json:"id"`
	Name   string          `json:"name"`
	City   string          `json:"city,omitempty"`
	Lat    float64         `json:"lat"`
	Lon    float64         `json:"lon"`
	Relays []TopologyRelay `json:"relays"`
}

// TopologyRelay is a relay players probe: Beacon is the UDP host:port for
// native clients, PingURL the WebSocket URL for browsers.
type TopologyRelay struct {
	ID      string `json:"id"`
	Beacon  string `json:"beacon"`
	PingURL string `json:"ping_url"`
	Weight  int    `json:"weight"`
}
