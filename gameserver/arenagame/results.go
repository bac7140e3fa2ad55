package arenagame

import (
	"cmp"
	"slices"
	"time"

	"github.com/atollgg/atoll/gameserver/arena"
	"github.com/atollgg/atoll/gameserver/sdk"
	"github.com/atollgg/atoll/gameserver/server"
)

// finish builds the outcome of a match that is over and logs its summary.
func (m *match) finish(startedAt time.Time) server.Outcome {
	endedAt := time.Now()
	_, reason := m.w.Over()
	results := outcomeResults(m.room.Match(), m.w.Results())
	s := &m.stats
	meanTick := time.Duration(0)
	if s.ticks > 0 {
		meanTick = s.totalTickDur / time.Duration(s.ticks)
	}
	violators := map[string]map[string]uint32{}
	for _, p := range m.peers {
		if p.counts.Total() > 0 {
			violators[p.id] = countsByName(p.counts)
		}
	}
	m.log.Info("arena match over", "reason", reason.String(), "ticks", s.ticks, "skipped_ticks", s.skippedTicks,
		"mean_tick", meanTick, "max_tick", s.maxTick, "frames_in", s.framesIn, "bad_frames", s.badFrames,
		"snapshots", s.snapshots, "bytes_out", s.bytesOut, "violations", s.violations, "kicks", s.kicks,
		"violators", violators, "events_dropped", s.eventsDropped, "violations_dropped", s.violationsDropped)
	return server.Outcome{StartedAt: startedAt, EndedAt: endedAt, Players: results}
}

// outcomeResults turns the world's results into one result per match
// player, best first. An account that left for longer than the reconnect
// grace and came back has two world records; they are summed. A match
// player who never connected gets an empty result. Equal records (score,
// kills, deaths) share a placement.
func outcomeResults(m server.Match, world []arena.Result) []sdk.PlayerResult {
	byID := make(map[string]*sdk.PlayerResult, len(m.Players))
	out := make([]sdk.PlayerResult, len(m.Players))
	for i, p := range m.Players {
		out[i] = sdk.PlayerResult{PlayerID: p.ID}
		byID[p.ID] = &out[i]
	}
	for _, r := range world {
		pr := byID[r.Account]
		if pr == nil {
			continue // the server admits match players only
		}
		pr.Score += r.Score
		pr.Kills += r.Kills
		pr.Deaths += r.Deaths
		pr.TimePlayedS += r.TimePlayed.Seconds()
	}
	slices.SortStableFunc(out, func(a, b sdk.PlayerResult) int {
		if c := rankCompare(a, b); c != 0 {
			return c
		}
		return cmp.Compare(a.PlayerID, b.PlayerID)
	})
	for i := range out {
		if i > 0 && rankCompare(out[i], out[i-1]) == 0 {
			out[i].Placement = out[i-1].Placement
		} else {
			out[i].Placement = i + 1
		}
	}
	return out
}

// rankCompare orders results as the arena's scoreboard does: score, then
// kills, then fewer deaths.
func rankCompare(a, b sdk.PlayerResult) int {
	if c := cmp.Compare(b.Score, a.Score); c != 0 {
		return c
	}
	if c := cmp.Compare(b.Kills, a.Kills); c != 0 {
		return c
	}
	return cmp.Compare(a.Deaths, b.Deaths)
}
