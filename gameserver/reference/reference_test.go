package reference

import (
	"testing"

	"github.com/atollgg/atoll/gameserver/arenagame"
	"github.com/atollgg/atoll/gameserver/sdk"
	"github.com/atollgg/atoll/gameserver/server"
)

func TestNewGameFromEnv(t *testing.T) {
	match := server.Match{SessionID: "s", Mode: "m", Players: []sdk.Player{{ID: "p1"}, {ID: "p2"}}}
	tests := []struct {
		env       map[string]string
		wantErr   bool
		wantArena bool
	}{
		{env: nil, wantArena: true},
		{env: map[string]string{EnvGame: GameArena, arenagame.EnvTickRate: "60"}, wantArena: true},
		{env: map[string]string{EnvGame: GameTimed}},
		{env: map[string]string{EnvGame: "chess"}, wantErr: true},
		{env: map[string]string{EnvGame: GameArena, arenagame.EnvTickRate: "0"}, wantErr: true},
	}
	for _, tc := range tests {
		newGame, err := NewGameFromEnv(func(k string) string { return tc.env[k] })
		if (err != nil) != tc.wantErr {
			t.Errorf("env %v: err %v, want error %v", tc.env, err, tc.wantErr)
			continue
		}
		if err != nil {
			continue
		}
		if !tc.wantArena {
			if newGame != nil {
				t.Errorf("env %v: a game func, want nil (the server's timed game)", tc.env)
			}
			continue
		}
		g, err := newGame(match)
		if err != nil {
			t.Fatalf("env %v: new game: %v", tc.env, err)
		}
		if _, ok := g.(*arenagame.Game); !ok {
			t.Errorf("env %v: game %T, want the arena", tc.env, g)
		}
	}
}
