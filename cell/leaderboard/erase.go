package leaderboard

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go/jetstream"
)

// RemovePlayer erases a player from every regional board and season, and
// remembers the erasure (ErasedBucket) so that neither a snapshot nor a
// replay of the stream restores them. The lead wires it to the core's
// player.erased event; it is idempotent.
func (s *Service) RemovePlayer(ctx context.Context, playerID string) error {
	if _, err := uuid.Parse(playerID); err != nil || len(playerID) != 36 {
		return fmt.Errorf("remove player from leaderboards: %q is not a UUID", playerID)
	}
	if s.erased == nil {
		return errors.New("remove player from leaderboards: not started")
	}
	if _, err := s.erased.Put(ctx, playerID, []byte(time.Now().UTC().Format(time.RFC3339))); err != nil {
		return fmt.Errorf("remove player from leaderboards: %w", err)
	}
	s.mu.Lock()
	s.erasedIDs[playerID] = true
	s.boards.RemovePlayer(playerID)
	s.mu.Unlock()
	return nil
}

// loadErased reads the remembered erasures.
func (s *Service) loadErased(ctx context.Context) error {
	lister, err := s.erased.ListKeys(ctx)
	if err != nil {
		if errors.Is(err, jetstream.ErrNoKeysFound) {
			return nil
		}
		return fmt.Errorf("list erased players: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for k := range lister.Keys() {
		s.erasedIDs[k] = true
	}
	return nil
}
