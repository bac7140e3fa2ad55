package contract

// RouteRequest is the body of POST /route on relays and the global core: a
// player's measured round trips (and loss) to each region's beacons. It is
// the same latencies_ms the matchmaking join carries.
type RouteRequest struct {
	// LatenciesMs maps region id to the robust round trip measured to its
	// beacons, in milliseconds.
	LatenciesMs map[string]int `json:"latencies_ms"`
	// LossPct maps region id to the share of probes lost (0-100); a
	// region missing from it lost none.
	LossPct map[string]float64 `json:"loss_pct,omitempty"`
}

// RouteResponse ranks the cells a player should use, best first; Skipped
// says why other regions were left out.
type RouteResponse struct {
	Cells   []RoutedCell    `json:"cells"`
	Skipped []SkippedRegion `json:"skipped,omitempty"`
}

// RoutedCell is one ranked cell.
type RoutedCell struct {
	CellID   string `json:"cell_id"`
	RegionID string `json:"region_id"`
	// APIURL is the cell's player API (matchmaking).
	APIURL string `json:"api_url"`
	// RelayURL is the relay of the region this player should use (pings,
	// forwarded play); the same player always gets the same relay while
	// the region's relays do not change.
	RelayURL  string  `json:"relay_url"`
	LatencyMs int     `json:"latency_ms"`
	LossPct   float64 `json:"loss_pct"`
	// ScoreMs is what the ranking sorts by: the latency plus a penalty for
	// loss (see the relay's routing documentation).
	ScoreMs float64 `json:"score_ms"`
	// Reason explains the cell's place, for players' support and logs.
	Reason string `json:"reason"`
}

// SkippedRegion is a region that was measured but not ranked.
type SkippedRegion struct {
	RegionID string `json:"region_id"`
	Reason   string `json:"reason"`
}
