// Package federation owns how the global core consumes the cells' events
// exactly once (durable consumers on CELL_EVENTS, an applied-marker in the
// handler's transaction, dead letters for poison) and publishes its own
// events to every cell through a transactional outbox.
package federation
