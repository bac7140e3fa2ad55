package client_test

import (
	"context"
	"testing"
	"time"

	"github.com/atollgg/atoll/gameserver/arena"
	"github.com/atollgg/atoll/gameserver/arenagame"
	"github.com/atollgg/atoll/gameserver/client"
	"github.com/atollgg/atoll/gameserver/netcode"
	"github.com/atollgg/atoll/gameserver/predict"
	"github.com/atollgg/atoll/stacktest"
)

// Over a link with 100 ms of round trip, jitter and 10% loss of inputs and
// snapshots each way, a bot's own-player prediction stays exact up to
// quantization: lost inputs are repeated in later frames, lost snapshots
// are replaced by deltas against what the client acknowledged, and the
// server applies every input once, in order. Anti-cheat never flags it.
func TestPredictionStaysBoundedUnderLatencyAndLoss(t *testing.T) {
	const (
		// Long enough that even a bot that dies often is reconciled well
		// over 100 times (8 s once gave 96 on a loaded machine).
		limit  = 12 * time.Second
		oneWay = 50 * time.Millisecond
		jitter = 15 * time.Millisecond
		loss   = 0.10
	)
	for _, enc := range []netcode.Encoding{netcode.Binary, netcode.JSON} {
		t.Run(enc.String(), func(t *testing.T) {
			env := stacktest.Start(t, stacktest.Options{Game: arenagame.Config{
				Arena: arena.Config{Width: 48, Height: 32, TimeLimit: limit, ScoreLimit: arena.MaxScoreLimit},
			}})
			players := []string{"laggy", "near-1", "near-2"}
			session, alloc := env.Allocate(t, players...)
			l := newLink(t, stacktest.URL(alloc), oneWay, jitter, loss, 42)
			ctx, cancel := context.WithTimeout(context.Background(), stacktest.WaitTimeout)
			defer cancel()

			results := env.PlayBots(ctx, t, alloc, players, func(i int) (string, client.Options) {
				if i == 0 {
					return l.URL(), client.Options{Encoding: enc}
				}
				return stacktest.URL(alloc), client.Options{}
			})
			r := results[0]
			p := r.Prediction
			t.Logf("%s over the link: rtt %v (max %v), %d snapshots, %d stale, %d bytes in; prediction %+v (mean %.4f); link dropped %d, forwarded %d",
				enc, r.Stats.RTT, r.Stats.MaxRTT, r.Stats.Snapshots, r.Stats.StaleFrames, r.Stats.BytesIn, p, p.MeanError(),
				l.dropped.Load(), l.forwarded.Load())
			if r.Stats.RTT < 2*oneWay-2*jitter || l.dropped.Load() == 0 {
				t.Fatalf("the link did not delay (rtt %v) or drop (%d) anything", r.Stats.RTT, l.dropped.Load())
			}
			if p.Reconciliations < 100 {
				t.Fatalf("only %d reconciliations: the bot barely played", p.Reconciliations)
			}
			// Quantization alone explains every error; allow a mispredicted
			// tick or two a match (an input that reached the server after
			// the banked movement budget ran out).
			if p.MeanError() > predict.MispredictTolerance || p.Mispredictions > 2 || p.MaxError > 1 {
				t.Errorf("prediction %+v: mean %.4f, want within %v with at most 2 mispredictions", p, p.MeanError(), predict.MispredictTolerance)
			}
			if !r.Over {
				t.Error("the laggy player did not see the end of the match")
			}
			env.SessionEnd(t, session)
			for _, e := range env.Telemetry(session) {
				t.Errorf("honest players flagged: %+v", e)
			}
		})
	}
}
