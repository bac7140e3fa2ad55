package arenagame_test

import (
	"context"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/atollgg/atoll/gameserver/arena"
	"github.com/atollgg/atoll/gameserver/arenagame"
	"github.com/atollgg/atoll/gameserver/client"
	"github.com/atollgg/atoll/gameserver/netcode"
	"github.com/atollgg/atoll/gameserver/predict"
	"github.com/atollgg/atoll/stacktest"
)

// smallArena makes bots meet often: a quarter of the default floor.
func smallArena(timeLimit time.Duration) arena.Config {
	return arena.Config{Width: 48, Height: 32, TimeLimit: timeLimit, ScoreLimit: arena.MaxScoreLimit}
}

// playBots connects one bot per player and plays until the match ends.
func playBots(t *testing.T, env *stacktest.Env, players []string, encodingOf func(i int) netcode.Encoding) (string, []client.Result) {
	t.Helper()
	session, alloc := env.Allocate(t, players...)
	ctx, cancel := context.WithTimeout(context.Background(), stacktest.WaitTimeout)
	defer cancel()
	results := env.PlayBots(ctx, t, alloc, players, func(i int) (string, client.Options) {
		return stacktest.URL(alloc), client.Options{Encoding: encodingOf(i)}
	})
	return session, results
}

func TestBotMatchOverWebSocketsReportsConsistentResults(t *testing.T) {
	const limit = 6 * time.Second
	env := stacktest.Start(t, stacktest.Options{Game: arenagame.Config{Arena: smallArena(limit)}})
	players := make([]string, 8)
	for i := range players {
		players[i] = fmt.Sprintf("player-%d", i)
	}
	// Half the bots speak the JSON debug mode.
	session, results := playBots(t, env, players, func(i int) netcode.Encoding { return netcode.Encoding(i % 2) })

	final := results[0].Final
	kills, deaths := 0, 0
	for i, r := range results {
		if !r.Over || r.EndReason != arena.EndTimeLimit {
			t.Fatalf("player %d: over=%v reason=%v, want the time limit", i, r.Over, r.EndReason)
		}
		if r.Final.Tick != final.Tick || len(r.Final.Players) != len(players) {
			t.Fatalf("player %d saw final tick %d with %d players; player 0 saw %d with %d",
				i, r.Final.Tick, len(r.Final.Players), final.Tick, len(final.Players))
		}
		if r.Kick != nil {
			t.Errorf("player %d was kicked: %+v", i, r.Kick)
		}
		if r.Stats.Snapshots == 0 || r.Stats.InputsSent == 0 || r.Stats.Pongs == 0 {
			t.Errorf("player %d: %+v: no snapshots, inputs or pongs", i, r.Stats)
		}
		// On loopback the prediction is exact up to quantization.
		if p := r.Prediction; p.Reconciliations == 0 || p.MaxError > predict.MispredictTolerance {
			t.Errorf("player %d prediction %+v: want reconciliations and no error beyond %v", i, p, predict.MispredictTolerance)
		}
	}
	for _, p := range final.Players {
		kills += int(p.Kills)
		deaths += int(p.Deaths)
	}
	if kills == 0 || kills != deaths {
		t.Fatalf("final snapshot: %d kills, %d deaths; want bots that fight, and every kill a death", kills, deaths)
	}

	ev := env.SessionEnd(t, session)
	if ev.Results == nil {
		t.Fatalf("session ended without results: %+v", ev)
	}
	if got := len(ev.Results.Players); got != len(players) {
		t.Fatalf("%d results, want %d", got, len(players))
	}
	bySeat := map[string]arena.PlayerID{}
	for i, r := range results {
		bySeat[players[i]] = r.Self
	}
	prev := math.MaxInt
	for i, pr := range ev.Results.Players {
		me, ok := final.Player(bySeat[pr.PlayerID])
		if !ok {
			t.Fatalf("result for %s has no seat in the final snapshot", pr.PlayerID)
		}
		if pr.Score != int(me.Score) || pr.Kills != int(me.Kills) || pr.Deaths != int(me.Deaths) {
			t.Errorf("%s: cell has score/kills/deaths %d/%d/%d, final snapshot %d/%d/%d",
				pr.PlayerID, pr.Score, pr.Kills, pr.Deaths, me.Score, me.Kills, me.Deaths)
		}
		if pr.Score > prev {
			t.Errorf("results not ranked: %+v", ev.Results.Players)
		}
		prev = pr.Score
		if i == 0 && pr.Placement != 1 {
			t.Errorf("best result has placement %d", pr.Placement)
		}
		// Everyone played from the start to the time limit.
		if pr.TimePlayedS < limit.Seconds()-0.5 || pr.TimePlayedS > limit.Seconds()+0.1 {
			t.Errorf("%s played %.2fs of a %v match", pr.PlayerID, pr.TimePlayedS, limit)
		}
	}
	// Honest bots commit no violations.
	if tele := env.Telemetry(session); len(tele) != 0 {
		t.Errorf("bots produced anti-cheat telemetry: %+v", tele)
	}
	t.Logf("final tick %d, %d kills; results %+v", final.Tick, kills, ev.Results.Players)
}
