package cell

import (
	"net/http"

	"github.com/atollgg/atoll/cell/fleet"
	"github.com/atollgg/atoll/cell/telemetry"
	"github.com/atollgg/atoll/contract"
	"github.com/atollgg/atoll/internal/tokens"
)

// KindTelemetry is the event kind of telemetry on the cell's stream
// (contract.TelemetryBatch bodies, one message per batch).
const KindTelemetry = contract.KindTelemetry

// newTelemetry builds the telemetry ingest: players and game servers post
// to /game/telemetry, and game servers' SDK batches go through FleetSink.
// The fleet is read when a server's request arrives (it is built later).
func (c *Cell) newTelemetry(verifier *tokens.Verifier) (*telemetry.Ingest, error) {
	return telemetry.New(telemetry.Config{
		CellID: c.cfg.CellID, Region: c.cfg.Region, Publisher: c.Bus, Verifier: verifier,
		Servers: func(r *http.Request) (fleet.TelemetryServer, error) { return c.Fleet.AuthenticateTelemetry(r) },
		Client:  c.cfg.TelemetryClient, Server: c.cfg.TelemetryServer, MaxInFlight: c.cfg.TelemetryMaxInFlight,
		Log: c.log, Registry: c.Registry,
	})
}
