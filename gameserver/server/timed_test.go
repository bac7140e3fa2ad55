package server

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/atollgg/atoll/gameserver/sdk"
	"github.com/atollgg/atoll/internal/obs"
)

func TestRankByScore(t *testing.T) {
	tests := []struct {
		scores     []int
		placements []int
	}{
		{nil, nil},
		{[]int{5}, []int{1}},
		{[]int{1, 5, 3}, []int{1, 2, 3}},
		{[]int{2, 7, 2, 9}, []int{1, 2, 3, 3}},
		{[]int{4, 4, 4}, []int{1, 1, 1}},
	}
	for _, tc := range tests {
		var rs []sdk.PlayerResult
		for _, s := range tc.scores {
			rs = append(rs, sdk.PlayerResult{Score: s})
		}
		rankByScore(rs)
		var got []int
		for i, r := range rs {
			if i > 0 && r.Score > rs[i-1].Score {
				t.Errorf("scores %v: not sorted descending: %+v", tc.scores, rs)
			}
			got = append(got, r.Placement)
		}
		if !slices.Equal(got, tc.placements) {
			t.Errorf("scores %v: placements %v, want %v", tc.scores, got, tc.placements)
		}
	}
}

// playTimed runs a Timed game in a real Room, feeding it msgs (as the
// transport would) and collecting what it broadcasts to nobody.
func playTimed(t *testing.T, g Timed, players []string, msgs func(start time.Time) []Message) (Outcome, error, int) {
	t.Helper()
	m := Match{SessionID: "s", Mode: "m"}
	for i, p := range players {
		m.Players = append(m.Players, sdk.Player{ID: p, Team: i})
	}
	starts := 0
	room := newRoom(m, obs.Discard(), func(context.Context) error { starts++; return nil })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	base := time.Now()
	for _, msg := range msgs(base) {
		room.inbox <- msg
	}
	out, err := g.Play(ctx, room)
	return out, err, starts
}

func TestTimedScoresTapsWithinRateLimit(t *testing.T) {
	tap := []byte(`{"type":"tap"}`)
	out, err, starts := playTimed(t, Timed{Duration: 300 * time.Millisecond, JoinTimeout: time.Second}, []string{"a", "b", "c"}, func(base time.Time) []Message {
		msgs := []Message{
			{Kind: Joined, PlayerID: "a", At: base},
			// Taps before every player joined do not count.
			{Kind: Frame, PlayerID: "a", Data: tap, At: base},
			{Kind: Joined, PlayerID: "b", At: base},
			{Kind: Joined, PlayerID: "c", At: base},
		}
		// a floods: only maxTapsPerSecond count within one second.
		for range maxTapsPerSecond + 10 {
			msgs = append(msgs, Message{Kind: Frame, PlayerID: "a", Data: tap, At: base.Add(time.Millisecond)})
		}
		msgs = append(msgs,
			Message{Kind: Frame, PlayerID: "b", Data: tap, At: base.Add(time.Millisecond)},
			Message{Kind: Frame, PlayerID: "b", Data: []byte(`{"type":"fire"}`), At: base.Add(time.Millisecond)},
			Message{Kind: Frame, PlayerID: "b", Binary: true, Data: tap, At: base.Add(time.Millisecond)},
			Message{Kind: Frame, PlayerID: "stranger", Data: tap, At: base.Add(time.Millisecond)},
			Message{Kind: Left, PlayerID: "c", At: base.Add(2 * time.Millisecond)},
		)
		return msgs
	})
	if err != nil {
		t.Fatalf("play: %v", err)
	}
	if starts != 1 {
		t.Errorf("game reported its start %d times", starts)
	}
	got := map[string]sdk.PlayerResult{}
	for _, r := range out.Players {
		got[r.PlayerID] = r
	}
	if got["a"].Score != maxTapsPerSecond || got["a"].Placement != 1 {
		t.Errorf("a: %+v, want score %d placement 1", got["a"], maxTapsPerSecond)
	}
	if got["b"].Score != 1 || got["b"].Placement != 2 {
		t.Errorf("b: %+v, want score 1 placement 2", got["b"])
	}
	if got["c"].Score != 0 || got["c"].TimePlayedS < 0 || got["c"].TimePlayedS >= got["a"].TimePlayedS {
		t.Errorf("c left early but %+v (a %+v)", got["c"], got["a"])
	}
	if len(out.Players) != 3 || !out.EndedAt.After(out.StartedAt) {
		t.Errorf("outcome %+v", out)
	}
	res := sdk.Results{SessionID: "s", StartedAt: out.StartedAt, EndedAt: out.EndedAt, Players: out.Players}
	if err := res.Validate(); err != nil {
		t.Fatalf("the cell would refuse these results: %v", err)
	}
	if _, err := json.Marshal(out); err != nil {
		t.Fatal(err)
	}
}

func TestTimedWithoutPlayers(t *testing.T) {
	_, err, starts := playTimed(t, Timed{Duration: time.Second, JoinTimeout: 50 * time.Millisecond}, []string{"a"}, func(time.Time) []Message { return nil })
	if !errors.Is(err, ErrNoPlayers) || starts != 0 {
		t.Fatalf("err %v, starts %d; want ErrNoPlayers and no start", err, starts)
	}
}

func TestTimedStartsWithThosePresentAfterJoinTimeout(t *testing.T) {
	out, err, starts := playTimed(t, Timed{Duration: 50 * time.Millisecond, JoinTimeout: 50 * time.Millisecond}, []string{"a", "b"}, func(base time.Time) []Message {
		return []Message{{Kind: Joined, PlayerID: "a", At: base}}
	})
	if err != nil || starts != 1 || len(out.Players) != 2 {
		t.Fatalf("out %+v, err %v, starts %d", out, err, starts)
	}
	for _, r := range out.Players {
		if (r.PlayerID == "b") != (r.TimePlayedS == 0) {
			t.Errorf("%s played %.3fs", r.PlayerID, r.TimePlayedS)
		}
	}
}
