package federationtest

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/atollgg/atoll/contract"
	"github.com/atollgg/atoll/global/federation"
	"github.com/atollgg/atoll/global/hub"
	"github.com/atollgg/atoll/internal/db"
	"github.com/google/uuid"
)

// TestOutageCatchUpExactlyOnce: a cell keeps playing real matches while the
// core (and its embedded hub) is shut down; when the core returns, every
// reward, rating, history row and leaderboard score of every match is
// applied exactly once. Republishing the same results with new message ids,
// in reverse order, and replaying the whole stream into fresh consumers with
// the applied-markers wiped change nothing; an erasure in the core removes
// the player from the cell's regional board.
func TestOutageCatchUpExactlyOnce(t *testing.T) {
	w := newWorld(t)
	d := w.openDB()
	ps := w.players(4)

	// With the core up: one duel, applied.
	first := w.play(ps[:2])
	eventually(t, "first match applied", func() bool { return sessionsApplied(t, d, first) == 2 && w.drained() })

	// The core goes away; the cell plays on (two duels at once, then one).
	w.stopCore()
	var during []string
	during = append(during, w.play(ps)...)
	during = append(during, w.play(ps[1:3])...)
	if len(during) != 3 {
		t.Fatalf("played sessions %v, want 3", during)
	}
	if n := sessionsApplied(t, d, during); n != 0 {
		t.Fatalf("%d results applied while the core was down", n)
	}

	// The core returns and catches up.
	w.startCore()
	all := append(slices.Clone(first), during...)
	eventually(t, "catch-up", func() bool { return sessionsApplied(t, d, all) == 8 && w.drained() })
	played := map[string]int{}
	for _, p := range ps {
		played[p.PlayerID] = 1 // the concurrent pair of duels
	}
	played[ps[0].PlayerID]++ // first duel
	played[ps[1].PlayerID]++
	played[ps[1].PlayerID]++ // last duel
	played[ps[2].PlayerID]++
	checkEffects(t, d, played)
	eventually(t, "regional board", func() bool {
		for id, n := range played {
			if w.regionalScore(id) != n {
				return false
			}
		}
		return true
	})
	before := state(t, d)

	// Duplicates under new message ids, in reverse order.
	ctx := ctxT(t)
	stored := w.storedResults()
	if len(stored) != 4 {
		t.Fatalf("%d match.completed in the cell's stream, want 4", len(stored))
	}
	for i := len(stored) - 1; i >= 0; i-- {
		if _, err := w.cell.Bus.Publish(ctx, contract.KindMatchCompleted, stored[i], "dup-"+uuid.NewString()); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, "duplicates consumed", w.drained)
	if after := state(t, d); !slices.Equal(before, after) {
		t.Fatalf("duplicates changed the effects:\nbefore %v\nafter  %v", before, after)
	}

	// Replay everything into fresh consumers with no applied-markers.
	if err := w.core.Federation.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	for _, h := range []string{"matches", "leaderboards"} {
		if err := w.hub().JS.DeleteConsumer(ctx, contract.CellEventsStream, federation.ConsumerName(h)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := d.Pool.Exec(ctx, `DELETE FROM federation_applied`); err != nil {
		t.Fatal(err)
	}
	w.stopCore()
	w.startCore()
	eventually(t, "replay consumed", w.drained)
	if after := state(t, d); !slices.Equal(before, after) {
		t.Fatalf("a replay changed the effects:\nbefore %v\nafter  %v", before, after)
	}
	var markers int
	if err := d.Pool.QueryRow(ctx, `SELECT count(*) FROM federation_applied`).Scan(&markers); err != nil || markers != 2*8 {
		t.Fatalf("applied-markers after the replay: %d %v, want 16 (2 handlers x 8 events)", markers, err)
	}

	// A result naming another cell than the one that published it is
	// dead-lettered by both consumers and applies nothing.
	forged := w.forgedResult(ps[0].PlayerID, ps[2].PlayerID)
	if _, err := w.cell.Bus.Publish(ctx, contract.KindMatchCompleted, forged.body, "forged-"+forged.id); err != nil {
		t.Fatal(err)
	}
	eventually(t, "forged result dead-lettered", func() bool { return w.deadLetters(forged.id) == 2 })
	if n := sessionsApplied(t, d, []string{forged.id}); n != 0 {
		t.Fatalf("forged result applied to %d players", n)
	}
	if after := state(t, d); !slices.Equal(before, after) {
		t.Fatalf("a forged result changed the effects")
	}

	// Erasure reaches the cell's regional board. (The board counted the
	// republished duplicates again: regional boards apply the cell's stream
	// as it is, and only a cell's own retries, under the same message id,
	// are deduplicated by the stream.)
	gone := ps[1].PlayerID
	kept := w.regionalScore(ps[0].PlayerID)
	req, _ := http.NewRequestWithContext(ctx, http.MethodDelete, w.core.URL()+"/player/me", nil)
	req.Header.Set("Authorization", "Bearer "+ps[1].AccessToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		t.Fatalf("erase: %d", resp.StatusCode)
	}
	eventually(t, "erased player off the regional board", func() bool { return w.regionalScore(gone) == -1 })
	if got := w.regionalScore(ps[0].PlayerID); got != kept || kept < played[ps[0].PlayerID] {
		t.Fatalf("another player's regional score went from %d to %d", kept, got)
	}
}

// checkEffects asserts every player's effects count each of their matches
// exactly once.
func checkEffects(t *testing.T, d *db.DB, played map[string]int) {
	t.Helper()
	ctx := ctxT(t)
	for id, n := range played {
		var games, history, ledger, gm int
		var best int64
		q := func(sql string, dst any) {
			if err := d.Pool.QueryRow(ctx, sql, id).Scan(dst); err != nil {
				t.Fatalf("%s: %v", sql, err)
			}
		}
		q(`SELECT games FROM ratings WHERE player_id = $1 AND mode = '`+mode+`'`, &games)
		q(`SELECT count(*) FROM match_participants WHERE player_id = $1`, &history)
		q(`SELECT count(*) FROM transactions WHERE player_id = $1 AND reason = 'reward'`, &ledger)
		q(`SELECT coalesce(sum(score), 0) FROM leaderboard_scores WHERE player_id = $1 AND leaderboard = 'g_matches'`, &gm)
		q(`SELECT count(*) FROM leaderboard_scores WHERE player_id = $1 AND leaderboard = 'g_best'`, &best)
		if games != n || history != n || gm != n || best != 1 {
			t.Errorf("player %s played %d: rating games %d, history %d, g_matches %d, g_best rows %d", id, n, games, history, gm, best)
		}
		if ledger != n {
			t.Errorf("player %s played %d: %d reward ledger rows", id, n, ledger)
		}
	}
	var keys, distinct int
	if err := d.Pool.QueryRow(ctx, `SELECT count(*), count(DISTINCT (player_id, idempotency_key)) FROM transactions WHERE reason = 'reward'`).Scan(&keys, &distinct); err != nil {
		t.Fatal(err)
	}
	if keys != distinct {
		t.Errorf("reward ledger: %d rows, %d distinct (player, key)", keys, distinct)
	}
}

// regionalScore is a player's r_matches score on the cell, -1 if absent.
func (w *world) regionalScore(id string) int {
	w.t.Helper()
	resp, err := http.Get(w.cell.URL() + "/leaderboards/r_matches/players/" + id)
	if err != nil {
		return -2
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusNotFound {
		return -1
	}
	var p contract.LeaderboardPlayer
	if resp.StatusCode != http.StatusOK || decodeJSON(resp, &p) != nil {
		return -2
	}
	return int(p.Entry.Score)
}

// storedResults returns the bodies of the match.completed events in the
// cell's own stream.
func (w *world) storedResults() [][]byte {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	st := w.cell.Bus.Stream()
	info, err := st.Info(ctx)
	if err != nil {
		w.t.Fatal(err)
	}
	var out [][]byte
	subj := contract.CellSubject(cellID, contract.KindMatchCompleted)
	for seq := info.State.FirstSeq; seq <= info.State.LastSeq; seq++ {
		m, err := st.GetMsg(ctx, seq)
		if err != nil {
			continue // deleted or expired
		}
		if m.Subject == subj {
			out = append(out, m.Data)
		}
	}
	return out
}

type forgery struct {
	id   string
	body []byte
}

// forgedResult is a valid duel result that names another cell.
func (w *world) forgedResult(a, b string) forgery {
	w.t.Helper()
	id := uuid.NewString()
	end := time.Now().UTC()
	body, err := json.Marshal(contract.MatchCompleted{CellID: "other-cell", SessionID: id, GameMode: mode,
		StartedAt: end.Add(-time.Second), EndedAt: end, Players: []contract.PlayerResult{
			{PlayerID: a, Team: 0, Score: 1000, Placement: 1}, {PlayerID: b, Team: 1, Placement: 2}}})
	if err != nil {
		w.t.Fatal(err)
	}
	return forgery{id: id, body: body}
}

// deadLetters counts the dead letters whose body names session id.
func (w *world) deadLetters(id string) int {
	ctx := ctxT(w.t)
	st, err := w.hub().JS.Stream(ctx, hub.DeadLetterStream)
	if err != nil {
		return -1
	}
	info, err := st.Info(ctx)
	if err != nil {
		return -1
	}
	n := 0
	for seq := info.State.FirstSeq; seq <= info.State.LastSeq && info.State.Msgs > 0; seq++ {
		m, err := st.GetMsg(ctx, seq)
		if err == nil && strings.Contains(string(m.Data), id) && m.Header.Get(federation.HeaderReason) != "" {
			n++
		}
	}
	return n
}
