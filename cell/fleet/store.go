package fleet

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/atollgg/atoll/gameserver/sdk"
	"github.com/nats-io/nats.go/jetstream"
)

// KV keys. Everything the fleet stores is under "fleet." so the bucket can
// be shared with the rest of the cell.
const (
	kvServerPrefix = "fleet.server."
	kvSDKAddr      = "fleet.sdk-addr"
)

// kvTimeout bounds one KV operation started by the fleet itself (not by a
// caller's context): the KV is the cell's embedded NATS, which answers in
// about a millisecond, so 5 s only trips when it is wedged.
const kvTimeout = 5 * time.Second

// maxRecordBytes bounds a stored server record we decode: an allocation
// with sdk.MaxPlayers players, its JWKS and results is well under 128 KiB.
const maxRecordBytes = 512 << 10

// record is a server as persisted in the KV: everything a restarted fleet
// needs to re-adopt it and finish its session.
type record struct {
	ID          string          `json:"id"`
	State       sdk.State       `json:"state"`
	Host        string          `json:"host"`
	Port        int             `json:"port"`
	Proc        ProcessRef      `json:"proc"`
	SecretHash  []byte          `json:"secret_hash"`
	CreatedAt   time.Time       `json:"created_at"`
	ReadyAt     time.Time       `json:"ready_at,omitzero"`
	AllocatedAt time.Time       `json:"allocated_at,omitzero"`
	Allocation  *sdk.Allocation `json:"allocation,omitempty"`
	Active      bool            `json:"active,omitempty"`
	Results     *Results        `json:"results,omitempty"`
	Outcome     *outcome        `json:"outcome,omitempty"`
	OutcomeSent bool            `json:"outcome_sent,omitempty"`
}

// outcome is how an allocated server's session ended, decided once.
type outcome struct {
	Kind   EventKind `json:"kind"` // EventSessionEnded or EventSessionFailed
	Reason string    `json:"reason,omitempty"`
	At     time.Time `json:"at"`
}

func (r *record) validate() error {
	if err := sdk.ValidateID(r.ID); err != nil {
		return fmt.Errorf("id: %w", err)
	}
	if !r.State.Valid() {
		return fmt.Errorf("unknown state %q", r.State)
	}
	if len(r.SecretHash) != 32 {
		return errors.New("secret hash is not 32 bytes")
	}
	if r.State == StateAllocated && r.Allocation == nil {
		return errors.New("allocated without an allocation")
	}
	if r.Allocation != nil {
		if err := r.Allocation.Validate(); err != nil {
			return fmt.Errorf("allocation: %w", err)
		}
	}
	if r.Outcome != nil && r.Outcome.Kind != EventSessionEnded && r.Outcome.Kind != EventSessionFailed {
		return fmt.Errorf("unknown outcome %q", r.Outcome.Kind)
	}
	return nil
}

func serverKey(id string) string { return kvServerPrefix + id }

// putRecordLocked writes rec for s; the caller holds s.kvMu, which orders
// a server's writes (each snapshots the state under it, so a later write
// never carries older state), and has checked s.removed, so a write racing
// with removal never resurrects the record.
func (f *Fleet) putRecordLocked(ctx context.Context, s *server, rec *record) error {
	data, err := json.Marshal(rec)
	if err != nil {
		return fmt.Errorf("encode server record: %w", err)
	}
	if _, err := f.kv.Put(ctx, serverKey(s.id), data); err != nil {
		return fmt.Errorf("store server %s: %w", s.id, err)
	}
	return nil
}

// save persists s's current state, logging failures: callers are internal
// transitions that cannot be undone, and the next transition rewrites the
// whole record anyway.
func (f *Fleet) save(s *server) {
	s.kvMu.Lock()
	defer s.kvMu.Unlock()
	if s.removed {
		return
	}
	f.mu.RLock()
	rec := s.recordLocked()
	f.mu.RUnlock()
	ctx, cancel := context.WithTimeout(context.Background(), kvTimeout)
	defer cancel()
	if err := f.putRecordLocked(ctx, s, rec); err != nil {
		f.log.Error("persist game server", "server", s.id, "err", err)
	}
}

// deleteRecord removes s's record for good.
func (f *Fleet) deleteRecord(s *server) {
	s.kvMu.Lock()
	defer s.kvMu.Unlock()
	s.removed = true
	ctx, cancel := context.WithTimeout(context.Background(), kvTimeout)
	defer cancel()
	if err := f.kv.Purge(ctx, serverKey(s.id)); err != nil {
		f.log.Error("delete game server record", "server", s.id, "err", err)
	}
}

// loadRecords reads every persisted server. Undecodable records are
// reported and skipped: one corrupt entry must not stop the cell.
func (f *Fleet) loadRecords(ctx context.Context) ([]*record, error) {
	lister, err := f.kv.ListKeysFiltered(ctx, kvServerPrefix+">")
	if err != nil {
		return nil, fmt.Errorf("list server records: %w", err)
	}
	// The lister closes its channel (and stops itself) once every current
	// key is listed; it may repeat keys written during the listing.
	var keys []string
	seen := map[string]bool{}
	for k := range lister.Keys() {
		if !seen[k] {
			seen[k] = true
			keys = append(keys, k)
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("list server records: %w", err)
	}
	var out []*record
	for _, k := range keys {
		e, err := f.kv.Get(ctx, k)
		if errors.Is(err, jetstream.ErrKeyNotFound) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", k, err)
		}
		rec := new(record)
		if len(e.Value()) > maxRecordBytes {
			err = errors.New("record too large")
		} else if err = json.Unmarshal(e.Value(), rec); err == nil {
			err = rec.validate()
		}
		if err != nil || serverKey(rec.ID) != k {
			f.log.Error("skipping corrupt game server record", "key", k, "err", err)
			if perr := f.kv.Purge(ctx, k); perr != nil {
				return nil, fmt.Errorf("purge corrupt %s: %w", k, perr)
			}
			continue
		}
		out = append(out, rec)
	}
	return out, nil
}

// savedSDKAddr returns the SDK address persisted by a previous run, or "".
func (f *Fleet) savedSDKAddr(ctx context.Context) (string, error) {
	e, err := f.kv.Get(ctx, kvSDKAddr)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read saved SDK address: %w", err)
	}
	return string(e.Value()), nil
}

func (f *Fleet) saveSDKAddr(ctx context.Context, addr string) error {
	if _, err := f.kv.Put(ctx, kvSDKAddr, []byte(addr)); err != nil {
		return fmt.Errorf("save SDK address: %w", err)
	}
	return nil
}
