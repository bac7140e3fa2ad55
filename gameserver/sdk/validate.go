package sdk

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"unicode/utf8"
)

// ValidateID checks a server, session or player id: 1 to MaxIDLength bytes
// of visible ASCII. Ids reach logs, metrics labels and KV keys, so nothing
// else is accepted.
func ValidateID(id string) error {
	if id == "" {
		return errors.New("empty id")
	}
	if len(id) > MaxIDLength {
		return fmt.Errorf("id longer than %d bytes", MaxIDLength)
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; c < 0x21 || c > 0x7e {
			return fmt.Errorf("id has a byte outside visible ASCII at offset %d", i)
		}
	}
	return nil
}

// Validate checks a player event.
func (e *PlayerEvent) Validate() error {
	if err := ValidateID(e.PlayerID); err != nil {
		return fmt.Errorf("player_id: %w", err)
	}
	return nil
}

// Validate checks a shutdown request.
func (r *ShutdownRequest) Validate() error {
	return validateReason(r.Reason)
}

func validateReason(s string) error {
	if len(s) > MaxReasonLength {
		return fmt.Errorf("reason longer than %d bytes", MaxReasonLength)
	}
	if !utf8.ValidString(s) {
		return errors.New("reason is not valid UTF-8")
	}
	return nil
}

// Validate checks the shape of results: ids, unique players, times and
// stat bounds. Whether the players are in the match is the cell's check.
func (r *Results) Validate() error {
	if err := ValidateID(r.SessionID); err != nil {
		return fmt.Errorf("session_id: %w", err)
	}
	if r.StartedAt.IsZero() || r.EndedAt.IsZero() {
		return errors.New("started_at and ended_at are required")
	}
	if r.EndedAt.Before(r.StartedAt) {
		return errors.New("ended_at is before started_at")
	}
	if len(r.Players) > MaxPlayers {
		return fmt.Errorf("more than %d players", MaxPlayers)
	}
	seen := make(map[string]bool, len(r.Players))
	for i, p := range r.Players {
		if err := p.validate(); err != nil {
			return fmt.Errorf("players[%d]: %w", i, err)
		}
		if seen[p.PlayerID] {
			return fmt.Errorf("players[%d]: player %q appears twice", i, p.PlayerID)
		}
		seen[p.PlayerID] = true
	}
	return nil
}

func (p *PlayerResult) validate() error {
	if err := ValidateID(p.PlayerID); err != nil {
		return fmt.Errorf("player_id: %w", err)
	}
	switch {
	case p.Score < -MaxStat || p.Score > MaxStat:
		return fmt.Errorf("score outside ±%d", MaxStat)
	case p.Kills < 0 || p.Kills > MaxStat:
		return fmt.Errorf("kills outside 0..%d", MaxStat)
	case p.Deaths < 0 || p.Deaths > MaxStat:
		return fmt.Errorf("deaths outside 0..%d", MaxStat)
	case p.Placement < 0 || p.Placement > MaxPlayers:
		return fmt.Errorf("placement outside 0..%d", MaxPlayers)
	case math.IsNaN(p.TimePlayedS) || p.TimePlayedS < 0 || p.TimePlayedS > MaxTimePlayed:
		return fmt.Errorf("time_played_s outside 0..%d", MaxTimePlayed)
	}
	return nil
}

// Validate checks an allocation received from the cell before a server
// trusts it: ids, unique players and the presence of verification keys.
func (a *Allocation) Validate() error {
	if err := ValidateID(a.SessionID); err != nil {
		return fmt.Errorf("session_id: %w", err)
	}
	if len(a.Mode) > MaxIDLength {
		return fmt.Errorf("mode longer than %d bytes", MaxIDLength)
	}
	if len(a.Players) == 0 || len(a.Players) > MaxPlayers {
		return fmt.Errorf("match has %d players, want 1..%d", len(a.Players), MaxPlayers)
	}
	seen := make(map[string]bool, len(a.Players))
	for i, p := range a.Players {
		if err := ValidateID(p.ID); err != nil {
			return fmt.Errorf("players[%d]: %w", i, err)
		}
		if seen[p.ID] {
			return fmt.Errorf("players[%d]: player %q appears twice", i, p.ID)
		}
		seen[p.ID] = true
	}
	if a.Connect.Issuer == "" {
		return errors.New("connect.issuer is required")
	}
	if len(a.Connect.JWKS) == 0 {
		return errors.New("connect.jwks is required")
	}
	return nil
}

// HasPlayer reports whether id is one of the match's players.
func (a *Allocation) HasPlayer(id string) bool {
	for _, p := range a.Players {
		if p.ID == id {
			return true
		}
	}
	return false
}

// Validate checks a telemetry batch's shape: ids, 1 to MaxTelemetryEvents
// events, kinds, times and bounded JSON objects. Whether its players are
// in the match is the cell's check.
func (b *TelemetryBatch) Validate() error {
	if err := ValidateID(b.BatchID); err != nil {
		return fmt.Errorf("batch_id: %w", err)
	}
	if err := ValidateID(b.SessionID); err != nil {
		return fmt.Errorf("session_id: %w", err)
	}
	if len(b.Events) == 0 || len(b.Events) > MaxTelemetryEvents {
		return fmt.Errorf("batch has %d events, want 1..%d", len(b.Events), MaxTelemetryEvents)
	}
	for i := range b.Events {
		if err := b.Events[i].Validate(); err != nil {
			return fmt.Errorf("events[%d]: %w", i, err)
		}
	}
	return nil
}

// Validate checks one telemetry event: kind, player id, time and data.
func (e *TelemetryEvent) Validate() error {
	if !validTelemetryKind(e.Kind) {
		return fmt.Errorf("kind must be 1..%d bytes of a-z, 0-9, '.', '_' or '-'", MaxTelemetryKind)
	}
	if e.PlayerID != "" {
		if err := ValidateID(e.PlayerID); err != nil {
			return fmt.Errorf("player_id: %w", err)
		}
	}
	if e.At.IsZero() {
		return errors.New("at is required")
	}
	if len(e.Data) == 0 {
		return nil
	}
	if len(e.Data) > MaxTelemetryData {
		return fmt.Errorf("data larger than %d bytes", MaxTelemetryData)
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(e.Data, &obj); err != nil || obj == nil {
		return errors.New("data must be a JSON object")
	}
	return nil
}

func validTelemetryKind(k string) bool {
	if k == "" || len(k) > MaxTelemetryKind {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}
