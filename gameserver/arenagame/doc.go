// Package arenagame owns the arena as a server.Game: the fixed-tick match loop that feeds players' decoded netcode frames into an arena.World, streams delta snapshots back, enforces anti-cheat (input gate, violation kicks, telemetry) and reports per-player results.
//
// # Protocol
//
// After the server package's hello/welcome handshake, a client's first
// game frame chooses its encoding for the whole connection: a binary
// WebSocket message means netcode's binary frames, a text message the JSON
// debug mode. The server answers that first frame with a netcode Welcome
// (the client's seat and the rules to predict with); a client sends a Ping
// first so the Pong measures its round trip too. Snapshots start flowing
// once the match has started; a client sends inputs only after its first
// snapshot, one per tick, with its unacknowledged inputs repeated and the
// newest snapshot tick acknowledged.
//
// A dropped player who reconnects within the reconnect grace (a fresh
// connect token from the cell, a new WebSocket) resumes its seat, score and
// stats; its input sequence restarts at 1.
package arenagame
