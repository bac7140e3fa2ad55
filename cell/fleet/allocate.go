package fleet

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/atollgg/atoll/gameserver/sdk"
)

// maxAllocateAttempts bounds how many Ready servers one Allocate tries when
// the chosen one dies between being picked and being committed; two in a
// row dying that way means something else is wrong.
const maxAllocateAttempts = 3

// Allocate hands m to a Ready server from the warm pool and returns where
// its players connect. The allocation is durable (in the KV) before the
// server learns of it or Allocate returns. It returns ErrNoCapacity when no
// server is Ready (and asks for more); allocating a session that is already
// allocated returns the same allocation.
func (f *Fleet) Allocate(ctx context.Context, m Match) (Allocation, error) {
	start := time.Now()
	alloc, err := f.allocate(ctx, m, start)
	switch {
	case err == nil:
		f.metrics.allocations.WithLabelValues("ok").Inc()
		f.metrics.allocLatency.Observe(time.Since(start).Seconds())
	case errors.Is(err, ErrNoCapacity):
		f.metrics.allocations.WithLabelValues("no_capacity").Inc()
	case errors.Is(err, ErrInvalidMatch):
		f.metrics.allocations.WithLabelValues("invalid").Inc()
	default:
		f.metrics.allocations.WithLabelValues("error").Inc()
	}
	return alloc, err
}

func (f *Fleet) allocate(ctx context.Context, m Match, now time.Time) (Allocation, error) {
	if err := validateMatch(&m); err != nil {
		return Allocation{}, err
	}
	jwks, err := f.cfg.ConnectKeys()
	if err != nil {
		return Allocation{}, fmt.Errorf("allocate: connect keys: %w", err)
	}
	if !json.Valid(jwks) {
		return Allocation{}, errors.New("allocate: connect keys are not valid JSON")
	}
	wire := &sdk.Allocation{
		SessionID:   m.SessionID,
		Mode:        m.Mode,
		Players:     make([]sdk.Player, len(m.Players)),
		Connect:     sdk.ConnectVerification{Issuer: f.cfg.Issuer, JWKS: jwks},
		AllocatedAt: now,
	}
	for i, p := range m.Players {
		wire.Players[i] = sdk.Player{ID: p.ID, Team: p.Team}
	}
	for range maxAllocateAttempts {
		s, existing, err := f.reserve(m.SessionID)
		if err != nil || existing {
			return f.allocationOf(s), err
		}
		ok, err := f.commit(ctx, s, wire, now)
		if err != nil {
			return Allocation{}, err
		}
		if ok {
			f.poke() // one fewer Ready: top the buffer up
			return f.allocationOf(s), nil
		}
	}
	return Allocation{}, fmt.Errorf("allocate: %d servers died while being allocated: %w", maxAllocateAttempts, ErrNoCapacity)
}

func validateMatch(m *Match) error {
	if err := sdk.ValidateID(m.SessionID); err != nil {
		return fmt.Errorf("%w: session id: %w", ErrInvalidMatch, err)
	}
	if len(m.Mode) > sdk.MaxIDLength {
		return fmt.Errorf("%w: mode longer than %d bytes", ErrInvalidMatch, sdk.MaxIDLength)
	}
	if len(m.Players) == 0 || len(m.Players) > sdk.MaxPlayers {
		return fmt.Errorf("%w: %d players, want 1..%d", ErrInvalidMatch, len(m.Players), sdk.MaxPlayers)
	}
	seen := make(map[string]bool, len(m.Players))
	for _, p := range m.Players {
		if err := sdk.ValidateID(p.ID); err != nil {
			return fmt.Errorf("%w: player id: %w", ErrInvalidMatch, err)
		}
		if seen[p.ID] {
			return fmt.Errorf("%w: player %q twice", ErrInvalidMatch, p.ID)
		}
		seen[p.ID] = true
	}
	return nil
}

// reserve takes the Ready server idle longest out of the ready list (it is
// the least likely to have a write of its own in flight) and claims the
// session for it. For a session already allocated it returns that server
// with existing set.
func (f *Fleet) reserve(sessionID string) (s *server, existing bool, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.life != lifeRunning {
		return nil, false, ErrClosed
	}
	if s := f.sessions[sessionID]; s != nil {
		if s.reserved {
			return nil, false, ErrAllocationInProgress
		}
		return s, true, nil
	}
	if len(f.ready) == 0 {
		f.poke()
		return nil, false, ErrNoCapacity
	}
	s = f.ready[0]
	f.ready = slices.Delete(f.ready, 0, 1)
	s.reserved = true
	f.sessions[sessionID] = s
	return s, false, nil
}

// commit persists s as Allocated to wire and then makes it so. It reports
// false (and releases the session) if s stopped being Ready meanwhile.
// s.kvMu is held throughout, so no other write of s's record can slip
// between the durable allocation and the state it describes.
func (f *Fleet) commit(ctx context.Context, s *server, wire *sdk.Allocation, now time.Time) (bool, error) {
	s.kvMu.Lock()
	defer s.kvMu.Unlock()
	var err error
	if !s.removed {
		f.mu.RLock()
		rec := s.recordLocked()
		f.mu.RUnlock()
		rec.State, rec.Allocation, rec.AllocatedAt = StateAllocated, wire, now
		err = f.putRecordLocked(ctx, s, rec)
	}

	f.mu.Lock()
	s.reserved = false
	live := !s.removed && s.state == StateReady && !s.exited && f.life == lifeRunning
	if err == nil && live {
		s.state = StateAllocated
		s.alloc = wire
		s.allocatedAt = now
		s.notifyLocked()
		f.mu.Unlock()
		return true, nil
	}
	if f.sessions[wire.SessionID] == s {
		delete(f.sessions, wire.SessionID)
	}
	if live {
		f.ready = append(f.ready, s)
	}
	rec := s.recordLocked()
	f.mu.Unlock()
	if err != nil {
		return false, fmt.Errorf("allocate: %w", err)
	}
	if !s.removed {
		// Undo the record of an allocation that did not happen.
		if err := f.putRecordLocked(ctx, s, rec); err != nil {
			f.log.Error("persist game server", "server", s.id, "err", err)
		}
	}
	return false, nil
}

func (f *Fleet) allocationOf(s *server) Allocation {
	if s == nil {
		return Allocation{}
	}
	f.mu.RLock()
	defer f.mu.RUnlock()
	a := Allocation{ServerID: s.id, Host: s.host, Port: s.port}
	if s.alloc != nil {
		a.SessionID = s.alloc.SessionID
	}
	return a
}
