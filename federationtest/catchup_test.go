package federationtest

import (
	"encoding/json"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/atollgg/atoll/contract"
	"github.com/google/uuid"
)

// Catch-up run sizes.
const (
	// defaultCatchUpEvents keeps the run in CI short; the measured figure in
	// the notes comes from ATOLL_E2E_CATCHUP_EVENTS=2000.
	defaultCatchUpEvents = 200
	// catchUpPlayers is how many players the synthetic duels draw from: few
	// enough that players' rows are contended as in a busy cell.
	catchUpPlayers = 40
)

// TestCatchUpAfterOutage measures catch-up: while the core is down a busy
// cell stores N match.completed events (duels between real accounts); the
// core comes back and the test times until both consumers have applied
// them all, then checks each was applied exactly once. Run the measured
// size with ATOLL_E2E_CATCHUP_EVENTS=2000 (see /work/notes/e2e.md).
func TestCatchUpAfterOutage(t *testing.T) {
	n := defaultCatchUpEvents
	if v := os.Getenv("ATOLL_E2E_CATCHUP_EVENTS"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n <= 0 {
			t.Fatalf("ATOLL_E2E_CATCHUP_EVENTS=%q", v)
		}
	}
	w := newWorld(t)
	d := w.openDB()
	ps := w.players(catchUpPlayers)
	w.stopCore()

	ctx := ctxT(t)
	ids, bodies, games := duels(t, ps, n)
	for i, body := range bodies {
		if _, err := w.cell.Bus.Publish(ctx, contract.KindMatchCompleted, body, contract.MatchCompletedMsgID(ids[i])); err != nil {
			t.Fatal(err)
		}
	}

	start := time.Now()
	w.startCore()
	eventually(t, "catch-up", func() bool { return w.drained() && sessionsApplied(t, d, ids) == 2*n })
	took := time.Since(start)
	t.Logf("catch-up of %d match.completed (2 consumers, %d players): %v including the core's start, %.0f events/s",
		n, catchUpPlayers, took.Round(time.Millisecond), float64(n)/took.Seconds())
	checkEffects(t, d, games)
}

// duels makes n match.completed bodies of duels between ps, as the cell
// writes them, with the session ids and each player's number of matches.
func duels(t *testing.T, ps []player, n int) (ids []string, bodies [][]byte, games map[string]int) {
	t.Helper()
	games = map[string]int{}
	end := time.Now().UTC().Add(-time.Hour)
	for i := range n {
		id := uuid.NewString()
		a, b := ps[i%len(ps)], ps[(i*7+1)%len(ps)]
		if a.PlayerID == b.PlayerID {
			b = ps[(i+1)%len(ps)]
		}
		games[a.PlayerID]++
		games[b.PlayerID]++
		ended := end.Add(time.Duration(i) * time.Millisecond)
		body, err := json.Marshal(contract.MatchCompleted{
			CellID: cellID, Region: "e2e", SessionID: id, GameMode: mode,
			StartedAt: ended.Add(-2 * time.Second), EndedAt: ended,
			Players: []contract.PlayerResult{
				{PlayerID: a.PlayerID, Team: 0, Score: i % 17, Kills: i % 5, Placement: 1, TimePlayedS: 2},
				{PlayerID: b.PlayerID, Team: 1, Score: i % 11, Deaths: i % 5, Placement: 2, TimePlayedS: 2},
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
		bodies = append(bodies, body)
	}
	return ids, bodies, games
}
