package arenagame

import (
	"context"
	"fmt"
	"hash/fnv"
	"time"

	"github.com/atollgg/atoll/gameserver/sdk"
	"github.com/atollgg/atoll/gameserver/server"
	"github.com/coder/websocket"
)

// Game plays one arena match; it implements server.Game.
type Game struct {
	cfg Config
}

// New checks cfg and returns a game that plays by it.
func New(cfg Config) (*Game, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Game{cfg: cfg.withDefaults()}, nil
}

// NewGameFunc returns a server.NewGameFunc making an arena game with cfg
// for each match.
func NewGameFunc(cfg Config) (server.NewGameFunc, error) {
	g, err := New(cfg)
	if err != nil {
		return nil, err
	}
	return func(m server.Match) (server.Game, error) {
		if len(m.Players) > g.cfg.Arena.MaxPlayers {
			return nil, fmt.Errorf("arena game: %d players exceed the %d seats", len(m.Players), g.cfg.Arena.MaxPlayers)
		}
		return g, nil
	}, nil
}

// room is what a match needs of server.Room.
type room interface {
	Match() server.Match
	Messages() <-chan server.Message
	Started(ctx context.Context) error
	Send(playerID string, binary bool, data []byte) bool
	Kick(playerID string, code websocket.StatusCode, reason string)
	Telemetry(events ...sdk.TelemetryEvent)
}

// Play implements server.Game: it waits for the players, runs the match
// until its score or time limit, and returns every match player's result.
func (g *Game) Play(ctx context.Context, r *server.Room) (server.Outcome, error) {
	return g.play(ctx, r)
}

func (g *Game) play(ctx context.Context, r room) (server.Outcome, error) {
	m, err := newMatch(g.cfg, r)
	if err != nil {
		return server.Outcome{}, err
	}
	return m.run(ctx)
}

// seedFor derives a match's PRNG seed from its session id.
func seedFor(sessionID string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(sessionID))
	return h.Sum64()
}

// tickInterval is the wall-clock length of one tick.
func tickInterval(rate int) time.Duration { return time.Second / time.Duration(rate) }

// snapshotEvery converts a snapshot rate to a period in ticks, rounding so
// the real rate is as close as possible to the one asked for.
func snapshotEvery(tickRate, snapshotRate int) uint32 {
	n := (tickRate + snapshotRate/2) / snapshotRate
	return uint32(max(1, n))
}

// Close codes the arena adds to the server package's.
const (
	// CloseKicked: the player was kicked for anti-cheat violations, or is
	// banned from the match after such a kick.
	CloseKicked websocket.StatusCode = 4003
	// CloseMatchFull: every seat is taken.
	CloseMatchFull websocket.StatusCode = 4029
	// CloseProtocolError: the client's frames broke the protocol beyond
	// what a violation counts (the server could not process them).
	CloseProtocolError websocket.StatusCode = 4002
)

var _ room = (*server.Room)(nil)
