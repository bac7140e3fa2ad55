package leaderboard

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/atollgg/atoll/contract"
	"github.com/atollgg/atoll/internal/rank"
	"github.com/nats-io/nats.go/jetstream"
)

// Why snapshots: the cell's stream keeps events for its max age only (7
// days), so a board that never resets, or resets monthly, cannot be rebuilt
// from the stream alone. Every SnapshotInterval (and at Shutdown) the boards
// and the stream sequence they include are written to the SnapshotBucket
// object store; Start loads the snapshot and replays the stream from the
// next sequence. A cell that was down for longer than the stream's max age
// since its last snapshot loses the events that expired meanwhile.

// snapshotObject is the object holding the latest snapshot.
const snapshotObject = "boards"

// snapshotVersion is the snapshot format; another version is ignored and
// the boards are rebuilt from the stream.
const snapshotVersion = 1

type snapshot struct {
	Version int    `json:"version"`
	Seq     uint64 `json:"seq"`
	// Defs fingerprints each board's definition: a board whose definition
	// changed is rebuilt from the stream rather than loaded.
	Defs   map[string]string                     `json:"defs"`
	Boards map[string]map[string][]snapshotEntry `json:"boards"`
}

type snapshotEntry struct {
	ID      string `json:"i"`
	Score   int64  `json:"s"`
	Updated int64  `json:"u"`
}

func fingerprint(d *contract.LeaderboardDefinition) string {
	b, _ := json.Marshal(d)
	return string(b)
}

// Snapshot writes the boards and the sequence they include.
func (s *Service) Snapshot(ctx context.Context) error {
	if s.snaps == nil {
		return nil
	}
	s.mu.Lock()
	seq := s.lastSeq
	boards := s.boards.Snapshot()
	s.mu.Unlock()
	snap := snapshot{Version: snapshotVersion, Seq: seq, Defs: map[string]string{}, Boards: map[string]map[string][]snapshotEntry{}}
	for name, d := range s.defs {
		snap.Defs[name] = fingerprint(d)
	}
	for name, seasons := range boards {
		snap.Boards[name] = map[string][]snapshotEntry{}
		for season, es := range seasons {
			out := make([]snapshotEntry, len(es))
			for i, e := range es {
				out[i] = snapshotEntry{ID: e.ID, Score: e.Score, Updated: e.Updated}
			}
			snap.Boards[name][season] = out
		}
	}
	data, err := json.Marshal(snap)
	if err != nil {
		return fmt.Errorf("encode leaderboard snapshot: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, snapshotTimeout)
	defer cancel()
	if _, err := s.snaps.PutBytes(ctx, snapshotObject, data); err != nil {
		return fmt.Errorf("write leaderboard snapshot: %w", err)
	}
	return nil
}

// loadSnapshot restores the boards from the latest snapshot, if any and if
// every board's definition is unchanged; otherwise boards start empty and
// the whole stream is replayed.
func (s *Service) loadSnapshot(ctx context.Context) error {
	data, err := s.snaps.GetBytes(ctx, snapshotObject)
	if errors.Is(err, jetstream.ErrObjectNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read leaderboard snapshot: %w", err)
	}
	var snap snapshot
	if err := json.Unmarshal(data, &snap); err != nil || snap.Version != snapshotVersion {
		s.log.Warn("ignoring unreadable leaderboard snapshot; replaying the stream", "err", err)
		return nil
	}
	for name, d := range s.defs {
		if snap.Defs[name] != fingerprint(d) {
			s.log.Info("a regional leaderboard's definition changed; replaying the stream", "leaderboard", name)
			return nil
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for name, seasons := range snap.Boards {
		d, ok := s.defs[name]
		if !ok {
			continue // a board no longer defined
		}
		for season, es := range seasons {
			for _, e := range es {
				if !s.erasedIDs[e.ID] {
					s.boards.Upsert(name, season, orderOf(d), rank.Entry{ID: e.ID, Score: e.Score, Updated: e.Updated})
				}
			}
		}
	}
	s.lastSeq = snap.Seq
	return nil
}

// snapshotLoop prunes old seasons and snapshots every SnapshotInterval.
func (s *Service) snapshotLoop(ctx context.Context) {
	t := time.NewTicker(s.cfg.SnapshotInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			s.Prune()
			if err := s.Snapshot(ctx); err != nil && ctx.Err() == nil {
				s.log.Error("leaderboard snapshot", "err", err)
				s.m.snapshots.WithLabelValues("error").Inc()
			} else if err == nil {
				s.m.snapshots.WithLabelValues("ok").Inc()
			}
		}
	}
}

// Prune forgets seasons older than the KeepSeasons most recent past ones.
func (s *Service) Prune() {
	now := s.cfg.Now()
	for name, d := range s.defs {
		current := d.Season(now)
		var past []string
		for _, season := range s.boards.Seasons(name) {
			if season < current { // season ids sort chronologically
				past = append(past, season)
			}
		}
		for i := 0; i < len(past)-s.cfg.KeepSeasons; i++ {
			s.boards.DropSeason(name, past[i])
		}
	}
}
