// Package server owns the dedicated game-server process behind `atoll gameserver`: the SDK lifecycle with the cell, players' WebSocket connections authenticated by connect tokens, and a pluggable Game that plays the match.
//
// Run drives one server through one match: Ready, wait for the
// allocation, accept players, play the Game, report results, shut down.
// Games see players only through a Room (joins, leaves, frames in; frames
// out), so a different game plugs in without touching the SDK or transport.
package server
