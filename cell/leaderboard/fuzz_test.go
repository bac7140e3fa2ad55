package leaderboard

import (
	"testing"

	"github.com/atollgg/atoll/internal/natstest"
	"github.com/atollgg/atoll/internal/obs"
)

// FuzzApplyMsg: match.completed bodies come off the cell's stream, which a
// compromised or buggy publisher can fill with anything; applying one never
// panics, and the boards' sequence always moves past it.
func FuzzApplyMsg(f *testing.F) {
	f.Add([]byte(`{"session_id":"s","game_mode":"duel","ended_at":"2026-12-06T12:00:00Z","players":[{"player_id":"p","score":3,"placement":1}]}`))
	f.Add([]byte(`{"ended_at":"0001-01-01T00:00:00Z","players":[{"player_id":""}]}`))
	f.Add([]byte(`{"players":null}`))
	f.Add([]byte(`[]`))
	_, js := natstest.Start(f)
	s, err := New(Config{CellID: testCell, Definitions: testDefs(), JS: js, Verifier: newKeys(f).verifier, Log: obs.Discard()})
	if err != nil {
		f.Fatal(err)
	}
	seq := uint64(0)
	f.Fuzz(func(t *testing.T, data []byte) {
		seq++
		s.applyMsg(seq, data)
		if s.LastSeq() != seq {
			t.Fatalf("sequence %d after applying %d", s.LastSeq(), seq)
		}
	})
}
