package matches

import (
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/atollgg/atoll/contract"
	"github.com/atollgg/atoll/global/ratings"
	"github.com/google/uuid"
)

// Event limits. An event outside them is invalid forever.
const (
	// maxPlayers bounds one match's results: the game-server SDK's
	// MaxPlayers, the largest lobby a cell allocates.
	maxPlayers = 256
	// maxLabel bounds the cell id and region: short names from the
	// topology, stored with every match.
	maxLabel = 128
	// maxStat bounds score, kills and deaths: the SDK's MaxStat.
	maxStat = 1_000_000_000
	// maxTeam bounds team numbers: at most one side per player.
	maxTeam = maxPlayers
	// maxTimePlayed bounds a player's time in one match: the SDK's
	// MaxTimePlayed, a day.
	maxTimePlayed = 24 * 60 * 60
	// maxMatchDuration bounds how long a match may claim to have lasted:
	// far above any real match, it catches a game server's clock gone wrong.
	maxMatchDuration = 7 * 24 * time.Hour
)

// invalid wraps an event's problem with contract.ErrInvalidEvent.
func invalid(format string, args ...any) error {
	return fmt.Errorf("match.completed: %w: %s", contract.ErrInvalidEvent, fmt.Sprintf(format, args...))
}

// Validate checks ev as the applier does: an error wraps
// contract.ErrInvalidEvent. Player ids are canonicalised in place.
func Validate(ev *contract.MatchCompleted) error {
	id, err := uuid.Parse(ev.SessionID)
	if err != nil || len(ev.SessionID) != 36 {
		return invalid("session_id must be a UUID")
	}
	ev.SessionID = id.String()
	if !label(ev.CellID, false) {
		return invalid("cell_id must be 1-%d visible ASCII characters", maxLabel)
	}
	if !label(ev.Region, true) {
		return invalid("region must be at most %d visible ASCII characters", maxLabel)
	}
	if !ratings.ValidMode(ev.GameMode) {
		return invalid("game_mode %q is not a mode name", ev.GameMode)
	}
	if ev.StartedAt.IsZero() || ev.EndedAt.IsZero() || ev.EndedAt.Before(ev.StartedAt) {
		return invalid("started_at and ended_at must be set, ended_at not before started_at")
	}
	if ev.EndedAt.Sub(ev.StartedAt) > maxMatchDuration || ev.EndedAt.Year() < 2000 || ev.EndedAt.Year() > 9999 {
		return invalid("the match's times are out of range (at most %s long, ended after 2000)", maxMatchDuration)
	}
	if len(ev.Players) == 0 || len(ev.Players) > maxPlayers {
		return invalid("a match has 1-%d players, got %d", maxPlayers, len(ev.Players))
	}
	seen := make(map[string]bool, len(ev.Players))
	for i := range ev.Players {
		p := &ev.Players[i]
		if err := validPlayer(p); err != nil {
			return invalid("players[%d]: %v", i, err)
		}
		if seen[p.PlayerID] {
			return invalid("players[%d]: player appears twice", i)
		}
		seen[p.PlayerID] = true
	}
	return nil
}

func validPlayer(p *contract.PlayerResult) error {
	u, err := uuid.Parse(p.PlayerID)
	if err != nil || len(p.PlayerID) != 36 {
		return errors.New("player_id must be a UUID")
	}
	p.PlayerID = u.String()
	switch {
	case p.Team < 0 || p.Team > maxTeam:
		return fmt.Errorf("team outside 0..%d", maxTeam)
	case p.Placement < 0 || p.Placement > maxPlayers:
		return fmt.Errorf("placement outside 0..%d", maxPlayers)
	case p.Score < -maxStat || p.Score > maxStat:
		return fmt.Errorf("score outside ±%d", maxStat)
	case p.Kills < 0 || p.Kills > maxStat || p.Deaths < 0 || p.Deaths > maxStat:
		return fmt.Errorf("kills and deaths must be within 0..%d", maxStat)
	case math.IsNaN(p.TimePlayedS) || p.TimePlayedS < 0 || p.TimePlayedS > maxTimePlayed:
		return fmt.Errorf("time_played_s outside 0..%d", maxTimePlayed)
	}
	return nil
}

// label reports whether s is a short visible-ASCII name.
func label(s string, optional bool) bool {
	if s == "" {
		return optional
	}
	if len(s) > maxLabel {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return false
		}
	}
	return true
}
