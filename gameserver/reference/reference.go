// Package reference owns `atoll gameserver`'s choice of game: Atoll's reference dedicated server plays the arena (gameserver/arenagame) unless ATOLL_GAME selects the timed game.
package reference

import (
	"context"
	"fmt"
	"io"

	"github.com/atollgg/atoll/gameserver/arenagame"
	"github.com/atollgg/atoll/gameserver/server"
)

// EnvGame selects the game: GameArena (the default) or GameTimed.
const EnvGame = "ATOLL_GAME"

// Games `atoll gameserver` plays.
const (
	// GameArena is the top-down arena shooter, configured by arenagame's
	// environment variables.
	GameArena = "arena"
	// GameTimed is the server package's tap-counting timed game, the
	// smallest possible SDK game.
	GameTimed = "timed"
)

// NewGameFromEnv makes the game EnvGame names, configured from the
// environment through getenv.
func NewGameFromEnv(getenv func(string) string) (server.NewGameFunc, error) {
	switch g := getenv(EnvGame); g {
	case "", GameArena:
		cfg, err := arenagame.ConfigFromEnv(getenv)
		if err != nil {
			return nil, err
		}
		return arenagame.NewGameFunc(cfg)
	case GameTimed:
		return nil, nil // the server's default, configured by ConfigFromEnv
	default:
		return nil, fmt.Errorf("%s: unknown game %q, want %q or %q", EnvGame, g, GameArena, GameTimed)
	}
}

// RunFromEnv runs `atoll gameserver`: one match of the game EnvGame names,
// with the cell's SDK environment (see server.ConfigFromEnv), logging JSON
// to logOut. Callers pass os.Getenv, os.Stderr and a context cancelled by
// SIGINT/SIGTERM, and exit non-zero on error.
func RunFromEnv(ctx context.Context, getenv func(string) string, logOut io.Writer) error {
	return server.RunFromEnvWith(ctx, getenv, logOut, NewGameFromEnv)
}
