package matchmaking

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/atollgg/atoll/cell/matchmaker"
	"github.com/nats-io/nats.go/jetstream"
)

// TicketStatus is what a ticket is waiting for.
type TicketStatus string

// Ticket statuses as players see them.
const (
	StatusQueued    TicketStatus = "queued"
	StatusMatched   TicketStatus = "matched"
	StatusTimedOut  TicketStatus = "timed_out"
	StatusCancelled TicketStatus = "cancelled"
)

// TicketBucket is the KV bucket tickets live in, one key per ticket.
const TicketBucket = "cell_tickets"

// TicketRetention is how long a finished ticket (timed out, cancelled, or
// matched into a session that is over) stays for status calls: a client
// that polls after the fact still learns what happened.
const TicketRetention = time.Hour

// TicketBucketConfig is the configuration of the tickets bucket.
func TicketBucketConfig() jetstream.KeyValueConfig {
	return jetstream.KeyValueConfig{Bucket: TicketBucket, Description: "matchmaking tickets", History: 1}
}

// Ticket is a MatchmakingQueueEntry as the cell keeps it: one player or a
// party, queued in one mode, with ratings from the global core.
type Ticket struct {
	ID      string              `json:"id"`
	Mode    string              `json:"mode"`
	Region  string              `json:"region"`
	Leader  string              `json:"leader"`
	Players []matchmaker.Player `json:"players"`
	// LatencyMs is the party's worst round trip to this cell's region.
	LatencyMs int `json:"latency_ms"`
	// EnqueuedAt is when the ticket's wait began. A ticket requeued after
	// its session failed gets now minus the time it had waited, so it keeps
	// its age in the queue (front place, widened windows).
	EnqueuedAt time.Time    `json:"enqueued_at"`
	Status     TicketStatus `json:"status"`
	SessionID  string       `json:"session_id,omitempty"`
	ServerID   string       `json:"server_id,omitempty"`
	Host       string       `json:"host,omitempty"`
	Port       int          `json:"port,omitempty"`
	MatchedAt  *time.Time   `json:"matched_at,omitempty"`
	// Closed marks a matched ticket whose session is over: its players may
	// queue again and no connect token is issued for it.
	Closed    bool      `json:"closed,omitempty"`
	Requeues  int       `json:"requeues,omitempty"`
	UpdatedAt time.Time `json:"updated_at"`

	// allocating marks a ticket a Pass took out of the queue whose server is
	// being allocated; memory only, since a restart requeues such tickets.
	allocating bool
}

// active reports whether the ticket still holds its players: queued, or
// matched into a session that is not over.
func (t *Ticket) active() bool {
	return t.Status == StatusQueued || (t.Status == StatusMatched && !t.Closed)
}

// finished reports whether the ticket will never change again.
func (t *Ticket) finished() bool { return !t.active() }

func (t *Ticket) hasPlayer(id string) bool {
	for _, p := range t.Players {
		if p.ID == id {
			return true
		}
	}
	return false
}

func (t *Ticket) playerIDs() []string {
	ids := make([]string, len(t.Players))
	for i, p := range t.Players {
		ids[i] = p.ID
	}
	return ids
}

// queueEntry is the ticket as the matchmaker queues it.
func (t *Ticket) queueEntry() matchmaker.Ticket {
	return matchmaker.Ticket{ID: t.ID, Mode: t.Mode, Players: t.Players, LatencyMs: t.LatencyMs, EnqueuedAt: t.EnqueuedAt}
}

func ticketKey(id string) string { return "t." + id }

// ticketStore persists tickets in the KV bucket.
type ticketStore struct{ kv jetstream.KeyValue }

func (s ticketStore) put(ctx context.Context, t *Ticket) error {
	data, err := json.Marshal(t)
	if err != nil {
		return fmt.Errorf("save ticket %s: %w", t.ID, err)
	}
	if _, err := s.kv.Put(ctx, ticketKey(t.ID), data); err != nil {
		return fmt.Errorf("save ticket %s: %w", t.ID, err)
	}
	return nil
}

func (s ticketStore) delete(ctx context.Context, id string) error {
	if err := s.kv.Purge(ctx, ticketKey(id)); err != nil && !errors.Is(err, jetstream.ErrKeyNotFound) {
		return fmt.Errorf("delete ticket %s: %w", id, err)
	}
	return nil
}

// all returns every stored ticket.
func (s ticketStore) all(ctx context.Context) ([]*Ticket, error) {
	w, err := s.kv.WatchAll(ctx, jetstream.IgnoreDeletes())
	if err != nil {
		return nil, fmt.Errorf("load tickets: %w", err)
	}
	defer func() { _ = w.Stop() }()
	var out []*Ticket
	for {
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("load tickets: %w", ctx.Err())
		case e := <-w.Updates():
			if e == nil { // every current value has been delivered
				return out, nil
			}
			t := new(Ticket)
			if err := json.Unmarshal(e.Value(), t); err != nil {
				return nil, fmt.Errorf("decode ticket %s: %w", e.Key(), err)
			}
			out = append(out, t)
		}
	}
}
