// Package cell owns a regional cell process: its configuration, and the
// wiring of the embedded NATS bus, the fleet of game servers, matchmaking,
// sessions, player auth against the global core's keys, and Consul
// registration behind New, Start and Shutdown.
package cell
