// Package telemetry owns the cell's telemetry ingest: POST /game/telemetry from players and game servers, checked against per-sender limits and published as one durable message per batch on the cell's stream.
package telemetry
