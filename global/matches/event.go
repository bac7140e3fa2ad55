package matches

import (
	"bytes"
	"context"
	"encoding/json"

	"github.com/atollgg/atoll/contract"
	"github.com/jackc/pgx/v5"
)

// maxEventBytes bounds a match.completed body: maxPlayers results of about
// 250 bytes each fit four times over.
const maxEventBytes = 256 << 10

// DecodeEvent decodes a match.completed body published under cellID's
// subject and validates it. Every refusal wraps contract.ErrInvalidEvent:
// an oversized or undecodable body, trailing data, a failing Validate, or
// an event naming another cell than the one whose subject carried it.
func DecodeEvent(cellID string, data []byte) (contract.MatchCompleted, error) {
	var ev contract.MatchCompleted
	if len(data) > maxEventBytes {
		return ev, invalid("body larger than %d bytes", maxEventBytes)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&ev); err != nil {
		return ev, invalid("undecodable body: %v", err)
	}
	if dec.More() {
		return ev, invalid("trailing data after the event")
	}
	if ev.CellID != cellID {
		return ev, invalid("cell_id %q published under cell %q", ev.CellID, cellID)
	}
	return ev, Validate(&ev)
}

// ApplyEvent is the federation handler's body: DecodeEvent, then
// ApplyMatchCompleted in tx. cellID comes from the event's subject
// (cell.<id>.match.completed), never from the body.
func (s *Service) ApplyEvent(ctx context.Context, tx pgx.Tx, cellID string, data []byte) error {
	ev, err := DecodeEvent(cellID, data)
	if err != nil {
		return err
	}
	return s.ApplyMatchCompleted(ctx, tx, ev)
}
