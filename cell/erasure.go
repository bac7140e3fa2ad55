package cell

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/atollgg/atoll/contract"
	"github.com/google/uuid"
)

// erasureConsumer is the durable consumer on GLOBAL_IN that applies the
// core's player.erased events.
const erasureConsumer = "cell_player_erased"

// consumeErasures applies the core's player.erased events until ctx ends:
// the player leaves every regional leaderboard (and stays out across
// snapshots and replays). Matchmaking tickets and sessions hold no more
// than a player id and expire on their own within minutes, so there is
// nothing else in the cell to erase. Each event is acked after it is
// applied; a failing apply is retried in place.
func (c *Cell) consumeErasures(ctx context.Context) {
	if c.Leaderboards == nil {
		return
	}
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		err := c.Bus.ConsumeGlobal(ctx, erasureConsumer, contract.KindPlayerErased, c.applyErasure)
		if err != nil && ctx.Err() == nil {
			c.log.Error("player.erased consumer stopped", "err", err)
		}
	}()
}

// applyErasure applies one player.erased body.
func (c *Cell) applyErasure(ctx context.Context, data []byte) error {
	id, err := decodeErasure(data)
	if err != nil {
		return err
	}
	return c.Leaderboards.RemovePlayer(ctx, id)
}

// decodeErasure returns the player id of a player.erased body; an
// undecodable body or a malformed id wraps contract.ErrInvalidEvent, so the
// event is dropped instead of retried forever.
func decodeErasure(data []byte) (string, error) {
	var ev contract.PlayerErased
	if err := json.Unmarshal(data, &ev); err != nil {
		return "", fmt.Errorf("player.erased: %w: %v", contract.ErrInvalidEvent, err)
	}
	if _, err := uuid.Parse(ev.PlayerID); err != nil || len(ev.PlayerID) != 36 {
		return "", fmt.Errorf("player.erased: %w: player id %q is not a UUID", contract.ErrInvalidEvent, ev.PlayerID)
	}
	return ev.PlayerID, nil
}
