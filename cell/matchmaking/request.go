package matchmaking

import (
	"io"
	"unicode/utf8"

	"github.com/atollgg/atoll/cell/matchmaker"
	"github.com/atollgg/atoll/internal/httpx"
)

// Request limits.
const (
	// MaxRegions bounds latencies_ms: a client pings the beacons of every
	// region, and Atoll runs tens of regions, not hundreds.
	MaxRegions = 64
	// maxRegionLen bounds a region name in latencies_ms.
	maxRegionLen = 64
	// maxJoinBody bounds the join body: a full party of tokens is ~10 KiB.
	maxJoinBody = 32 << 10
	// maxConsentBody bounds a party-consent body.
	maxConsentBody = 8 << 10
)

// JoinRequest is the body of POST /matchmaking/join.
type JoinRequest struct {
	GameMode string `json:"game_mode"`
	// LatenciesMs are round trips to each region's ping beacon; this cell's
	// region is required.
	LatenciesMs map[string]int `json:"latencies_ms"`
	// Party lists the other members when the caller leads a party. Each
	// member proves consent with a party token from
	// POST /matchmaking/party/consent naming the caller as leader; members'
	// access tokens never leave their own clients.
	Party []PartyMember `json:"party,omitempty"`
}

// PartyMember is one member of a party join.
type PartyMember struct {
	PlayerID   string `json:"player_id"`
	PartyToken string `json:"party_token"`
}

// ConsentRequest is the body of POST /matchmaking/party/consent: the caller
// agrees to be queued by leader_id in game_mode.
type ConsentRequest struct {
	LeaderID    string         `json:"leader_id"`
	GameMode    string         `json:"game_mode"`
	LatenciesMs map[string]int `json:"latencies_ms"`
}

// DecodeJoin reads and checks a join body against the cell's modes and
// region: it returns the request and the caller's latency to this region.
// Every failure is an *httpx.Error.
func DecodeJoin(r io.Reader, modes map[string]matchmaker.Mode, region string) (JoinRequest, int, error) {
	var req JoinRequest
	if err := httpx.DecodeStrict(io.LimitReader(r, maxJoinBody+1), &req); err != nil {
		return req, 0, err
	}
	mode, err := checkMode(req.GameMode, modes)
	if err != nil {
		return req, 0, err
	}
	lat, err := checkLatencies(req.LatenciesMs, region)
	if err != nil {
		return req, 0, err
	}
	if len(req.Party) > mode.TeamSize-1 {
		return req, 0, httpx.BadRequest("mode %q allows parties of at most %d players; party lists %d others", mode.Name, mode.TeamSize, len(req.Party))
	}
	for i, m := range req.Party {
		switch {
		case m.PlayerID == "" || len(m.PlayerID) > matchmaker.MaxIDLen:
			return req, 0, httpx.BadRequest("party[%d].player_id must be 1 to %d bytes", i, matchmaker.MaxIDLen)
		case m.PartyToken == "":
			return req, 0, httpx.BadRequest("party[%d].party_token is required", i)
		}
		for _, o := range req.Party[:i] {
			if o.PlayerID == m.PlayerID {
				return req, 0, httpx.BadRequest("party lists player %d twice", i)
			}
		}
	}
	return req, lat, nil
}

// DecodeConsent reads and checks a party-consent body; it returns the
// caller's latency to this region.
func DecodeConsent(r io.Reader, modes map[string]matchmaker.Mode, region string) (ConsentRequest, int, error) {
	var req ConsentRequest
	if err := httpx.DecodeStrict(io.LimitReader(r, maxConsentBody+1), &req); err != nil {
		return req, 0, err
	}
	mode, err := checkMode(req.GameMode, modes)
	if err != nil {
		return req, 0, err
	}
	if mode.TeamSize < 2 {
		return req, 0, httpx.BadRequest("mode %q is played alone: no parties", mode.Name)
	}
	if req.LeaderID == "" || len(req.LeaderID) > matchmaker.MaxIDLen {
		return req, 0, httpx.BadRequest("leader_id must be 1 to %d bytes", matchmaker.MaxIDLen)
	}
	lat, err := checkLatencies(req.LatenciesMs, region)
	return req, lat, err
}

func checkMode(name string, modes map[string]matchmaker.Mode) (matchmaker.Mode, error) {
	if name == "" {
		return matchmaker.Mode{}, httpx.BadRequest("game_mode is required")
	}
	m, ok := modes[name]
	if !ok {
		if len(name) > matchmaker.MaxIDLen || !utf8.ValidString(name) {
			return m, httpx.BadRequest("unknown game_mode")
		}
		return m, httpx.BadRequest("unknown game_mode %q", name)
	}
	return m, nil
}

func checkLatencies(lat map[string]int, region string) (int, error) {
	if len(lat) == 0 {
		return 0, httpx.BadRequest("latencies_ms is required (round trips to each region's ping beacon)")
	}
	if len(lat) > MaxRegions {
		return 0, httpx.BadRequest("latencies_ms lists %d regions, at most %d allowed", len(lat), MaxRegions)
	}
	for k, v := range lat {
		if k == "" || len(k) > maxRegionLen {
			return 0, httpx.BadRequest("latencies_ms has a region name that is empty or longer than %d bytes", maxRegionLen)
		}
		if v < 0 || v > matchmaker.MaxLatencyLimitMs {
			return 0, httpx.BadRequest("latencies_ms values must be between 0 and %d", matchmaker.MaxLatencyLimitMs)
		}
	}
	v, ok := lat[region]
	if !ok {
		return 0, httpx.BadRequest("latencies_ms has no entry for this cell's region %q", region)
	}
	return v, nil
}
