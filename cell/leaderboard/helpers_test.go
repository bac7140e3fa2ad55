package leaderboard

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"sort"
	"testing"
	"time"

	"github.com/atollgg/atoll/cell/bus"
	"github.com/atollgg/atoll/contract"
	"github.com/atollgg/atoll/internal/obs"
	"github.com/atollgg/atoll/internal/rank"
	"github.com/atollgg/atoll/internal/tokens"
	"github.com/google/uuid"
)

const (
	testCell     = "lbtest"
	testIssuer   = "https://core.test"
	testAudience = "atoll"
	// testTimeout bounds one wait on the embedded server.
	testTimeout = 30 * time.Second
)

// t0 is a Sunday noon: the week 2026-W49 ends at midnight.
var t0 = time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)

// testDefs covers both orders, every operator, several fields and resets,
// a mode filter, and one global board the cell must ignore.
func testDefs() []contract.LeaderboardDefinition {
	return []contract.LeaderboardDefinition{
		{Name: "score_best", Operator: contract.OperatorBest, Scope: contract.ScopeRegional, Field: contract.FieldScore},
		{Name: "deaths_best_asc", Order: contract.OrderAsc, Operator: contract.OperatorBest, Scope: contract.ScopeRegional, Field: contract.FieldDeaths, Reset: contract.ResetWeekly},
		{Name: "kills_daily", Operator: contract.OperatorIncrement, Scope: contract.ScopeRegional, Field: contract.FieldKills, Reset: contract.ResetDaily},
		{Name: "wins_weekly", Operator: contract.OperatorIncrement, Scope: contract.ScopeRegional, Field: contract.FieldWins, Reset: contract.ResetWeekly},
		{Name: "last_score_asc", Order: contract.OrderAsc, Operator: contract.OperatorSet, Scope: contract.ScopeRegional, Field: contract.FieldScore, Reset: contract.ResetMonthly},
		{Name: "duel_matches", Operator: contract.OperatorIncrement, Scope: contract.ScopeRegional, Field: contract.FieldMatches, Modes: []string{"duel"}},
		{Name: "global_kills", Operator: contract.OperatorIncrement, Scope: contract.ScopeGlobal, Field: contract.FieldKills},
	}
}

func startBus(t *testing.T, dir string) *bus.Bus {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	b, err := bus.Start(ctx, bus.Config{CellID: testCell, DataDir: dir, Log: obs.Discard()})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func stopBus(t *testing.T, b *bus.Bus) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	if err := b.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
}

type testKeys struct {
	issuer   *tokens.Issuer
	verifier *tokens.Verifier
}

func newKeys(t testing.TB) testKeys {
	t.Helper()
	ring := tokens.NewKeyRing()
	iss, err := tokens.NewIssuer(tokens.IssuerConfig{Keys: ring, Issuer: testIssuer, Audience: testAudience})
	if err != nil {
		t.Fatal(err)
	}
	v, err := tokens.NewVerifier(tokens.VerifierConfig{Keys: ring, Issuer: testIssuer, Audience: testAudience})
	if err != nil {
		t.Fatal(err)
	}
	return testKeys{iss, v}
}

func (k testKeys) token(t *testing.T, playerID string) string {
	t.Helper()
	tok, _, err := k.issuer.IssueAccess(playerID, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// startService starts the boards over b; stopped by t.Cleanup unless the
// test stops it first.
func startService(t *testing.T, b *bus.Bus, keys testKeys, mutate ...func(*Config)) *Service {
	t.Helper()
	cfg := Config{CellID: testCell, Definitions: testDefs(), JS: b.JS, Verifier: keys.verifier, Log: obs.Discard(),
		KeepSeasons: 1000, Now: func() time.Time { return t0 }}
	for _, m := range mutate {
		m(&cfg)
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	if err := s.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.crash() })
	return s
}

// crash stops consuming without the final snapshot, as a SIGKILL would.
func (s *Service) crash() {
	if s.cancel != nil {
		s.cancel()
		s.wg.Wait()
	}
}

func players(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = uuid.NewSHA1(uuid.NameSpaceOID, fmt.Appendf(nil, "player-%d", i)).String()
	}
	return out
}

// randomMatch is a match among a few of pool, ending within three weeks of
// t0 on a minute boundary: small ranges make equal scores and times common.
func randomMatch(rng *rand.Rand, pool []string, i int) contract.MatchCompleted {
	ended := t0.Add(-time.Duration(rng.IntN(21*24*60)) * time.Minute)
	ev := contract.MatchCompleted{CellID: testCell, Region: "eu", SessionID: fmt.Sprintf("s-%d", i),
		GameMode: []string{"duel", "5v5"}[rng.IntN(2)], StartedAt: ended.Add(-5 * time.Minute), EndedAt: ended}
	perm := rng.Perm(len(pool))
	for j := range 2 + rng.IntN(3) {
		ev.Players = append(ev.Players, contract.PlayerResult{PlayerID: pool[perm[j]], Score: rng.IntN(10) - 3,
			Kills: rng.IntN(4), Deaths: rng.IntN(4), Placement: j + 1})
	}
	return ev
}

func publish(t *testing.T, b *bus.Bus, ev contract.MatchCompleted) uint64 {
	t.Helper()
	data, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	ack, err := b.Publish(ctx, contract.KindMatchCompleted, data, contract.MatchCompletedMsgID(ev.SessionID))
	if err != nil {
		t.Fatal(err)
	}
	return ack.Sequence
}

func waitSeq(t *testing.T, s *Service, seq uint64) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	if err := s.WaitSeq(ctx, seq); err != nil {
		t.Fatal(err)
	}
}

// reference is the brute-force model of every regional board: operators
// re-implemented, every season a plain map, ranks by a full sort.
type reference map[string]map[string]map[string]rank.Entry

func (r reference) apply(defs []contract.LeaderboardDefinition, ev contract.MatchCompleted, erased map[string]bool) {
	for _, d := range defs {
		if d.Scope != contract.ScopeRegional {
			continue
		}
		season := d.Season(ev.EndedAt)
		for _, p := range ev.Players {
			v, ok := d.Value(ev.GameMode, p)
			if !ok || erased[p.PlayerID] {
				continue
			}
			if r[d.Name] == nil {
				r[d.Name] = map[string]map[string]rank.Entry{}
			}
			if r[d.Name][season] == nil {
				r[d.Name][season] = map[string]rank.Entry{}
			}
			cur, had := r[d.Name][season][p.PlayerID]
			t := ev.EndedAt.UnixMicro()
			better := (d.Order == contract.OrderAsc && v < cur.Score) || (d.Order != contract.OrderAsc && v > cur.Score)
			switch {
			case !had:
				cur = rank.Entry{ID: p.PlayerID, Score: v, Updated: t}
			case d.Operator == contract.OperatorBest && better:
				cur = rank.Entry{ID: p.PlayerID, Score: v, Updated: t}
			case d.Operator == contract.OperatorBest && v == cur.Score:
				cur.Updated = min(cur.Updated, t)
			case d.Operator == contract.OperatorSet && (t > cur.Updated || t == cur.Updated && v > cur.Score):
				cur = rank.Entry{ID: p.PlayerID, Score: v, Updated: t}
			case d.Operator == contract.OperatorIncrement:
				cur.Score += v
				cur.Updated = max(cur.Updated, t)
			}
			r[d.Name][season][p.PlayerID] = cur
		}
	}
}

func (r reference) sorted(defs []contract.LeaderboardDefinition) map[string]map[string][]rank.Entry {
	asc := map[string]bool{}
	for _, d := range defs {
		asc[d.Name] = d.Order == contract.OrderAsc
	}
	out := map[string]map[string][]rank.Entry{}
	for board, seasons := range r {
		out[board] = map[string][]rank.Entry{}
		for season, m := range seasons {
			var es []rank.Entry
			for _, e := range m {
				es = append(es, e)
			}
			sort.Slice(es, func(i, j int) bool {
				a, b := es[i], es[j]
				if a.Score != b.Score {
					return (a.Score < b.Score) == asc[board]
				}
				if a.Updated != b.Updated {
					return a.Updated < b.Updated
				}
				return a.ID < b.ID
			})
			out[board][season] = es
		}
	}
	return out
}

// sameBoards fails t unless the service's boards equal the reference's.
func sameBoards(t *testing.T, s *Service, want map[string]map[string][]rank.Entry) {
	t.Helper()
	got := s.boards.Snapshot()
	for board, seasons := range want {
		for season, es := range seasons {
			g := got[board][season]
			if len(g) != len(es) {
				t.Fatalf("%s %s: %d entries, want %d", board, season, len(g), len(es))
			}
			for i := range es {
				if g[i] != es[i] {
					t.Fatalf("%s %s: rank %d is %+v, want %+v", board, season, i+1, g[i], es[i])
				}
			}
		}
	}
	for board, seasons := range got {
		for season, es := range seasons {
			if len(es) > 0 && len(want[board][season]) == 0 {
				t.Fatalf("%s %s: %d unexpected entries", board, season, len(es))
			}
		}
	}
}
