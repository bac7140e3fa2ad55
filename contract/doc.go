// Package contract owns the wire contracts shared by cells, relays, game
// servers and the global core: events on the federation bus and the bodies
// of the core's internal API. It imports none of them, so each side can
// import it without crossing the architecture's boundaries.
package contract
