package audit

import (
	"context"
	"encoding/json"
	"fmt"
)

// WriteMany inserts events in one statement using q: a batch of grants
// audits each grant without a round trip per event.
func WriteMany(ctx context.Context, q Execer, events []Event) error {
	if len(events) == 0 {
		return nil
	}
	kinds := make([]string, len(events))
	players := make([]*string, len(events))
	actors := make([]string, len(events))
	details := make([]string, len(events))
	for i, e := range events {
		d := e.Details
		if d == nil {
			d = map[string]any{}
		}
		b, err := json.Marshal(d)
		if err != nil {
			return fmt.Errorf("audit %s: encode details: %w", e.Kind, err)
		}
		kinds[i], actors[i], details[i] = e.Kind, e.Actor, string(b)
		if e.PlayerID != "" {
			players[i] = &events[i].PlayerID
		}
	}
	if _, err := q.Exec(ctx, `INSERT INTO audit_log (kind, player_id, actor, details)
		SELECT e.kind, e.player_id, e.actor, e.details::JSONB FROM unnest($1::TEXT[], $2::UUID[], $3::TEXT[], $4::TEXT[]) AS e (kind, player_id, actor, details)`,
		kinds, players, actors, details); err != nil {
		return fmt.Errorf("audit %d events: %w", len(events), err)
	}
	return nil
}
