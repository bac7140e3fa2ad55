package route

import (
	"cmp"
	"fmt"
	"hash/fnv"
	"math"
	"slices"
	"strings"

	"github.com/atollgg/atoll/contract"
	"github.com/atollgg/atoll/topology"
)

// LossPenaltyMs is what each percent of lost probes adds to a region's
// score: a lost packet costs a game a resend or a visible hitch, so 5%
// loss (+50 ms) ranks a region behind one 40 ms farther that loses none.
const LossPenaltyMs = 10

// MaxLossPct is the loss beyond which a region is not ranked at all: a path
// that drops a third of its packets cannot carry a real-time game.
const MaxLossPct = 33

// CellState is what the live health source knows of a cell.
type CellState struct {
	// Healthy is true while the cell passes its health check.
	Healthy bool
	// Load is the cell's share of its capacity in use (0-1); zero means
	// idle or unknown.
	Load float64
}

// Health is a snapshot of the cells' live health. Known false means no
// live source answered (Consul not configured or unreachable): every
// declared cell is then taken as healthy, the topology files being the
// declared intent.
type Health struct {
	Known bool
	Cells map[string]CellState // by cell id
}

// Rank orders the cells of world for a player with the given measurements:
// regions by score (latency plus LossPenaltyMs per percent lost), within a
// region healthy cells with capacity by load. A region whose cells are all
// down is skipped and, if it was the best measured, its declared fallbacks
// are tried next with their own measurements. playerID picks the relay
// (weighted rendezvous hashing, so a player keeps their relay).
func Rank(world *topology.World, health Health, req contract.RouteRequest, playerID string) contract.RouteResponse {
	type scored struct {
		region *topology.Region
		ms     int
		loss   float64
		score  float64
	}
	var resp contract.RouteResponse
	var regions []scored
	for id, ms := range req.LatenciesMs {
		r, ok := world.Region(id)
		if !ok {
			resp.Skipped = append(resp.Skipped, contract.SkippedRegion{RegionID: id, Reason: "not a region of the topology"})
			continue
		}
		loss := req.LossPct[id]
		if loss > MaxLossPct {
			resp.Skipped = append(resp.Skipped, contract.SkippedRegion{RegionID: id, Reason: fmt.Sprintf("%.0f%% of probes lost (more than %d%%)", loss, MaxLossPct)})
			continue
		}
		regions = append(regions, scored{region: r, ms: ms, loss: loss, score: float64(ms) + loss*LossPenaltyMs})
	}
	slices.SortFunc(regions, func(a, b scored) int {
		if c := cmp.Compare(a.score, b.score); c != 0 {
			return c
		}
		return strings.Compare(a.region.ID, b.region.ID)
	})
	var best *scored
	for i := range regions {
		s := &regions[i]
		cells, why := usableCells(s.region, health)
		if len(cells) == 0 {
			resp.Skipped = append(resp.Skipped, contract.SkippedRegion{RegionID: s.region.ID, Reason: why})
			continue
		}
		relay := pickRelay(s.region, playerID)
		for j, c := range cells {
			rc := contract.RoutedCell{
				CellID: c.ID, RegionID: s.region.ID, APIURL: c.APIURL, RelayURL: relay,
				LatencyMs: s.ms, LossPct: s.loss, ScoreMs: s.score,
			}
			switch {
			case best == nil && j == 0:
				rc.Reason = fmt.Sprintf("nearest healthy region %s: %d ms, %.0f%% loss", s.region.ID, s.ms, s.loss)
				if i > 0 {
					rc.Reason += fmt.Sprintf("; nearer %s skipped (%s)", regions[0].region.ID, skippedReason(resp.Skipped, regions[0].region.ID))
				}
			case best == nil || best.region == s.region:
				rc.Reason = fmt.Sprintf("same region %s, more loaded than the cell before it", s.region.ID)
			default:
				rc.Reason = fmt.Sprintf("region %s: %d ms, %.0f%% loss, %+.0f ms behind %s", s.region.ID, s.ms, s.loss, s.score-best.score, best.region.ID)
			}
			resp.Cells = append(resp.Cells, rc)
		}
		if best == nil {
			best = s
		}
	}
	// Declared fallbacks of a skipped best region move up: the operator
	// said where its players go when it is down.
	if len(regions) > 0 && len(resp.Cells) > 0 && resp.Cells[0].RegionID != regions[0].region.ID {
		promoteFallbacks(&resp, regions[0].region)
	}
	slices.SortFunc(resp.Skipped, func(a, b contract.SkippedRegion) int { return strings.Compare(a.RegionID, b.RegionID) })
	return resp
}

func skippedReason(skipped []contract.SkippedRegion, id string) string {
	for _, s := range skipped {
		if s.RegionID == id {
			return s.Reason
		}
	}
	return ""
}

// promoteFallbacks moves the cells of the skipped region's declared
// fallbacks, in the declared order, ahead of the others (keeping the
// latency order among the rest) and says so in their reason.
func promoteFallbacks(resp *contract.RouteResponse, down *topology.Region) {
	if len(down.Fallback) == 0 {
		return
	}
	rank := func(region string) int {
		if i := slices.Index(down.Fallback, region); i >= 0 {
			return i
		}
		return len(down.Fallback)
	}
	slices.SortStableFunc(resp.Cells, func(a, b contract.RoutedCell) int { return rank(a.RegionID) - rank(b.RegionID) })
	for i := range resp.Cells {
		c := &resp.Cells[i]
		if rank(c.RegionID) < len(down.Fallback) {
			c.Reason = fmt.Sprintf("declared fallback of %s (no healthy cell): region %s, %d ms, %.0f%% loss", down.ID, c.RegionID, c.LatencyMs, c.LossPct)
		}
	}
}

// usableCells are the region's healthy cells with capacity, least loaded
// first; why says what was wrong when there are none.
func usableCells(r *topology.Region, h Health) ([]topology.Cell, string) {
	type loaded struct {
		cell topology.Cell
		load float64
	}
	var ok []loaded
	down, full := 0, 0
	for _, c := range r.Cells {
		st, known := h.Cells[c.ID]
		switch {
		case !h.Known:
			ok = append(ok, loaded{cell: c})
		case !known || !st.Healthy:
			down++
		case c.Capacity > 0 && st.Load >= 1:
			full++
		default:
			ok = append(ok, loaded{cell: c, load: st.Load})
		}
	}
	if len(ok) == 0 {
		switch {
		case full > 0 && down == 0:
			return nil, "every cell is at capacity"
		case full > 0:
			return nil, fmt.Sprintf("%d cells down, %d at capacity", down, full)
		default:
			return nil, "no healthy cell"
		}
	}
	slices.SortStableFunc(ok, func(a, b loaded) int { return cmp.Compare(a.load, b.load) })
	cells := make([]topology.Cell, len(ok))
	for i, l := range ok {
		cells[i] = l.cell
	}
	return cells, ""
}

// pickRelay chooses the region's relay for a player by weighted rendezvous
// hashing: stable per player, spread by weight, and only the players of a
// relay that leaves move.
func pickRelay(r *topology.Region, playerID string) string {
	best, bestScore := "", math.Inf(-1)
	for _, rl := range r.Relays {
		h := fnv.New64a()
		h.Write([]byte(rl.ID))
		h.Write([]byte{0})
		h.Write([]byte(playerID))
		u := (float64(h.Sum64()>>11) + 0.5) / (1 << 53) // in (0, 1)
		score := -float64(max(rl.Weight, 1)) / math.Log(u)
		if score > bestScore {
			best, bestScore = rl.URL, score
		}
	}
	return best
}
