// Package discovery owns the relays' side of Consul: registering a relay as
// service atoll-relay, and watching the health of the atoll-cell instances
// with blocking queries so routing drops a failing cell within seconds.
package discovery
