package federation

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/atollgg/atoll/contract"
	"github.com/jackc/pgx/v5"
	"github.com/nats-io/nats.go/jetstream"
)

// Event is one event sourced from a cell's stream.
type Event struct {
	CellID  string    // from the subject cell.<id>.<kind>
	Kind    string    // e.g. contract.KindMatchCompleted
	Subject string    // cell.<id>.<kind>
	MsgID   string    // the cell's Nats-Msg-Id (dedupe key)
	Seq     uint64    // stream sequence in CELL_EVENTS
	Time    time.Time // when CELL_EVENTS stored it
	Data    []byte    // JSON body
}

// TxHandler applies one event inside the framework's transaction; the
// framework records (handler name, cell, MsgID) as applied in the SAME
// transaction and acks after commit. It may run more than once (retried
// transactions): write only through tx.
type TxHandler func(ctx context.Context, tx pgx.Tx, ev Event) error

type poisonError struct{ err error }

func (p poisonError) Error() string { return p.err.Error() }
func (p poisonError) Unwrap() error { return p.err }

// Poison marks an error that can never succeed (undecodable or invalid
// event): the framework moves the event to the dead-letter stream with the
// reason instead of retrying. Errors wrapping contract.ErrInvalidEvent are
// treated the same way.
func Poison(err error) error {
	if err == nil {
		return nil
	}
	return poisonError{err}
}

// IsPoison reports whether err was marked by Poison.
func IsPoison(err error) bool {
	var p poisonError
	return errors.As(err, &p)
}

// eventOf reads a delivered message; an error means it can never be
// applied.
func eventOf(msg jetstream.Msg) (Event, error) {
	meta, err := msg.Metadata()
	if err != nil {
		return Event{}, fmt.Errorf("metadata: %w", err)
	}
	ev := Event{Subject: msg.Subject(), Seq: meta.Sequence.Stream, Time: meta.Timestamp, Data: msg.Data()}
	if ev.CellID, ev.Kind, err = ParseSubject(ev.Subject); err != nil {
		return ev, err
	}
	ev.MsgID = msg.Headers().Get(jetstream.MsgIDHeader)
	if ev.MsgID == "" {
		// Every Atoll cell sets one; for another publisher the source
		// header (origin stream and sequence) is stable across redelivery.
		src := msg.Headers().Get("Nats-Stream-Source")
		if src == "" {
			return ev, errors.New("no Nats-Msg-Id and no source header to deduplicate by")
		}
		ev.MsgID = "src:" + src
	}
	return ev, nil
}

// ParseSubject splits a cell event's subject, cell.<id>.<kind>, checking
// the id as contract.ValidCellID does.
func ParseSubject(subject string) (cellID, kind string, err error) {
	parts := strings.SplitN(subject, ".", 3)
	if len(parts) != 3 || parts[0] != "cell" || !contract.ValidCellID(parts[1]) || parts[2] == "" {
		return "", "", fmt.Errorf("subject %q is not cell.<id>.<kind>", subject)
	}
	return parts[1], parts[2], nil
}
