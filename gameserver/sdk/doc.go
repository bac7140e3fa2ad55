// Package sdk owns the contract between a game server and its cell: the wire types and environment of the local JSON-over-HTTP SDK API, and its Go client.
//
// The API itself is documented in README.md so that servers written in any
// engine can implement it; the cell serves it (cell/fleet).
package sdk
