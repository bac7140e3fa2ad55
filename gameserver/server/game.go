package server

import (
	"context"
	"time"

	"github.com/atollgg/atoll/gameserver/sdk"
)

// Match is the match a server was allocated for.
type Match struct {
	SessionID string
	Mode      string
	Players   []sdk.Player
}

// Game plays one match. Play runs on its own goroutine and owns the game
// loop: it reads players' joins, leaves and frames from room.Messages(),
// sends frames through room, calls room.Started when play begins, and
// returns the results once the game is over. When ctx ends (the cell or the
// operator stops the server) it must return promptly; its results are then
// discarded and the session fails.
type Game interface {
	Play(ctx context.Context, room *Room) (Outcome, error)
}

// NewGameFunc makes the Game for a match.
type NewGameFunc func(Match) (Game, error)

// Outcome is a finished game's results.
type Outcome struct {
	StartedAt time.Time
	EndedAt   time.Time
	// Players holds one result per match player, decided by the server.
	Players []sdk.PlayerResult
}

// MessageKind says what a Message carries.
type MessageKind int

// Message kinds.
const (
	// Joined: a player's connection was authenticated (also after a
	// reconnect, which replaces the previous connection).
	Joined MessageKind = iota + 1
	// Left: a player's connection ended.
	Left
	// Frame: a player sent a frame (Data, Binary).
	Frame
)

// Message is something that happened to a player's connection.
type Message struct {
	Kind     MessageKind
	PlayerID string
	// Binary and Data are set for Frame. Data belongs to the receiver.
	Binary bool
	Data   []byte
	At     time.Time
}
