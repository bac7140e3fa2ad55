package fleet

import (
	"net/http"

	"github.com/atollgg/atoll/gameserver/sdk"
)

// TelemetryServer is what the fleet vouches for about a game server sending
// telemetry to the cell's API: its id, and the match it is allocated for.
type TelemetryServer struct {
	ServerID  string
	SessionID string
	Mode      string
	// Allocation is a copy-free view of the server's match; read only.
	Allocation *sdk.Allocation
}

// AuthenticateTelemetry checks a request's game-server credential (the SDK
// headers: X-Atoll-Server-Id and the server's secret as a bearer token) the
// way the SDK port does, and returns the server's match. A server that is
// not allocated (or is past its match) cannot send telemetry.
func (f *Fleet) AuthenticateTelemetry(r *http.Request) (TelemetryServer, error) {
	s, err := f.authenticate(r)
	if err != nil {
		return TelemetryServer{}, err
	}
	f.mu.RLock()
	alloc, st := s.alloc, s.state
	f.mu.RUnlock()
	if alloc == nil || (st != StateAllocated && st != StateShutdown) {
		return TelemetryServer{}, errNotAllocated
	}
	return TelemetryServer{ServerID: s.id, SessionID: alloc.SessionID, Mode: alloc.Mode, Allocation: alloc}, nil
}
