// Package fleet owns a cell's fleet of dedicated game servers: starting them, keeping a warm buffer Ready, allocating them to matches, watching their health, serving them the SDK API and reporting their sessions' events.
//
// The lifecycle follows Agones: Starting → Ready → Allocated → Shutdown,
// plus Unhealthy for a server that misses heartbeats or crashes. State lives
// in a JetStream KV bucket and game servers run in their own process groups,
// so a restarted cell re-adopts running games instead of killing them.
package fleet
