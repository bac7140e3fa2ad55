package sessions

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Bucket is the KV bucket sessions live in.
const Bucket = "cell_sessions"

// Retention is how long an ended or failed session stays readable: players
// look at their last match's results for a while, and the global core has
// the results from the match.completed event long before this.
const Retention = 24 * time.Hour

// maxUpdateAttempts bounds the compare-and-set retries of Update. Each
// session has one writer in practice (the cell's event loop), so a second
// attempt is already rare.
const maxUpdateAttempts = 8

// ErrNotFound is returned for an unknown session id.
var ErrNotFound = errors.New("session not found")

// Store keeps sessions in a KV bucket, one key per session.
type Store struct{ kv jetstream.KeyValue }

// BucketConfig is the configuration of the sessions bucket.
func BucketConfig() jetstream.KeyValueConfig {
	return jetstream.KeyValueConfig{Bucket: Bucket, Description: "game sessions", History: 1}
}

// NewStore returns a Store on kv (see BucketConfig).
func NewStore(kv jetstream.KeyValue) *Store { return &Store{kv: kv} }

func key(id string) string { return "s." + id }

// Create stores a new session; it fails if the id exists.
func (s *Store) Create(ctx context.Context, sess Session, serverID string) error {
	data, err := json.Marshal(stored{Session: sess, ServerID: serverID})
	if err != nil {
		return fmt.Errorf("create session: %w", err)
	}
	if _, err := s.kv.Create(ctx, key(sess.ID), data); err != nil {
		return fmt.Errorf("create session %s: %w", sess.ID, err)
	}
	return nil
}

// Get returns a session and its server id.
func (s *Store) Get(ctx context.Context, id string) (Session, string, error) {
	st, _, err := s.get(ctx, id)
	return st.Session, st.ServerID, err
}

func (s *Store) get(ctx context.Context, id string) (stored, uint64, error) {
	e, err := s.kv.Get(ctx, key(id))
	if errors.Is(err, jetstream.ErrKeyNotFound) || errors.Is(err, jetstream.ErrInvalidKey) {
		return stored{}, 0, ErrNotFound
	}
	if err != nil {
		return stored{}, 0, fmt.Errorf("get session %s: %w", id, err)
	}
	var st stored
	if err := json.Unmarshal(e.Value(), &st); err != nil {
		return stored{}, 0, fmt.Errorf("decode session %s: %w", id, err)
	}
	return st, e.Revision(), nil
}

// Update applies change to the stored session with compare-and-set,
// retrying on a concurrent write. change reports whether it changed
// anything; when it did not, nothing is written. It returns the session as
// stored afterwards and whether change wrote.
func (s *Store) Update(ctx context.Context, id string, change func(*Session, *string) bool) (Session, bool, error) {
	for range maxUpdateAttempts {
		st, rev, err := s.get(ctx, id)
		if err != nil {
			return Session{}, false, err
		}
		if !change(&st.Session, &st.ServerID) {
			return st.Session, false, nil
		}
		data, err := json.Marshal(st)
		if err != nil {
			return Session{}, false, fmt.Errorf("update session %s: %w", id, err)
		}
		_, err = s.kv.Update(ctx, key(id), data, rev)
		if err == nil {
			return st.Session, true, nil
		}
		var apiErr *jetstream.APIError
		if !errors.As(err, &apiErr) || apiErr.ErrorCode != jetstream.JSErrCodeStreamWrongLastSequence {
			return Session{}, false, fmt.Errorf("update session %s: %w", id, err)
		}
	}
	return Session{}, false, fmt.Errorf("update session %s: %d concurrent writes in a row", id, maxUpdateAttempts)
}

// Delete removes a session (one whose allocation failed, so players never
// saw it).
func (s *Store) Delete(ctx context.Context, id string) error {
	if err := s.kv.Purge(ctx, key(id)); err != nil {
		return fmt.Errorf("delete session %s: %w", id, err)
	}
	return nil
}

// Entry is a listed session with its server id.
type Entry struct {
	Session
	ServerID string
}

// List returns every stored session.
func (s *Store) List(ctx context.Context) ([]Entry, error) {
	w, err := s.kv.WatchAll(ctx, jetstream.IgnoreDeletes())
	if err != nil {
		return nil, fmt.Errorf("list sessions: %w", err)
	}
	defer func() { _ = w.Stop() }()
	var out []Entry
	for {
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("list sessions: %w", ctx.Err())
		case e := <-w.Updates():
			if e == nil { // every current value has been delivered
				return out, nil
			}
			var st stored
			if err := json.Unmarshal(e.Value(), &st); err != nil {
				return nil, fmt.Errorf("decode session %s: %w", e.Key(), err)
			}
			out = append(out, Entry{Session: st.Session, ServerID: st.ServerID})
		}
	}
}

// Prune deletes ended and failed sessions whose end is older than
// Retention at now, and returns how many it deleted.
func (s *Store) Prune(ctx context.Context, now time.Time) (int, error) {
	all, err := s.List(ctx)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, e := range all {
		if e.Status.Terminal() && e.EndTime != nil && now.Sub(*e.EndTime) >= Retention {
			if err := s.Delete(ctx, e.ID); err != nil {
				return n, err
			}
			n++
		}
	}
	return n, nil
}
