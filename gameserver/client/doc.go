// Package client owns Atoll's Go game client: a connection to an arena game server with client-side prediction and reconciliation, a bot driver that plays, and the whole player journey (guest login, matchmaking, play, results) that tests and the load test run.
package client
