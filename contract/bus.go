package contract

import "regexp"

// The wiring both ends of a leaf connection must agree on: which subjects
// each side's sourcing uses, so the hub's leaf permissions can confine a
// cell to its own.

var cellIDPattern = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_-]{0,63}$`)

// ValidCellID reports whether id can name a JetStream domain, a stream, a
// NATS user and a subject token: letters, digits, '-' and '_', at most 64
// characters.
func ValidCellID(id string) bool { return cellIDPattern.MatchString(id) }

// GlobalInStream is a cell's local stream (in the cell's domain) that
// sources GlobalEventsStream, so a cell applies the core's events after an
// outage too.
const GlobalInStream = "GLOBAL_IN"

// JSAPIPrefix is the JetStream API prefix of a domain reached over a leaf
// connection.
func JSAPIPrefix(domain string) string { return "$JS." + domain + ".API" }

// HubDeliverPrefix is where a cell's sourcing consumer delivers its
// stream's messages to the hub: atoll.src.<cell id>. The hub lets cell id
// publish only under it, so a cell cannot inject into another cell's source.
func HubDeliverPrefix(cellID string) string { return "atoll.src." + cellID }

// CellDeliverPrefix is where the hub delivers GlobalEventsStream to a
// cell's GlobalInStream: atoll.dst.<cell id>.
func CellDeliverPrefix(cellID string) string { return "atoll.dst." + cellID }
