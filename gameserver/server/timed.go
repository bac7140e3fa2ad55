package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/atollgg/atoll/gameserver/sdk"
	"github.com/atollgg/atoll/internal/httpx"
)

// Defaults of the timed game.
const (
	// DefaultDuration is how long a timed game lasts.
	DefaultDuration = 30 * time.Second
	// DefaultJoinTimeout is how long a timed game waits for all its players
	// before starting with those present: long enough for a client to load,
	// short enough that the others do not give up.
	DefaultJoinTimeout = 30 * time.Second
)

// maxTapsPerSecond caps how fast a player scores, so a scripted client
// cannot out-score humans by flooding; 20/s is faster than anyone taps.
const maxTapsPerSecond = 20

// ErrNoPlayers means nobody joined a game before its join timeout.
var ErrNoPlayers = errors.New("no player joined")

// Timed is the reference game of `atoll gameserver`: it waits for the
// players, then for Duration counts each player's "tap" frames
// ({"type":"tap"}, at most maxTapsPerSecond counted per second) as score.
// Players receive {"type":"start","duration_ms":N} when it starts and
// {"type":"end","results":[...]} when it ends.
type Timed struct {
	// Duration is the game's length; zero means DefaultDuration.
	Duration time.Duration
	// JoinTimeout is how long to wait for every player before starting
	// with those present; zero means DefaultJoinTimeout.
	JoinTimeout time.Duration
}

// timedFrame is a client frame of the timed game.
type timedFrame struct {
	Type string `json:"type"`
}

// decodeTimedFrame decodes a client frame; only "tap" exists.
func decodeTimedFrame(binary bool, data []byte) (string, error) {
	if binary {
		return "", errors.New("binary frame")
	}
	if len(data) > maxFrameBytes {
		return "", fmt.Errorf("frame larger than %d bytes", maxFrameBytes)
	}
	var f timedFrame
	if err := httpx.DecodeStrict(bytes.NewReader(data), &f); err != nil {
		return "", errors.New("frame is not a JSON object {\"type\": ...}")
	}
	if f.Type != "tap" {
		return "", fmt.Errorf("unknown frame type %q", f.Type)
	}
	return f.Type, nil
}

type timedStartFrame struct {
	Type       string `json:"type"`
	DurationMS int64  `json:"duration_ms"`
}

type timedEndFrame struct {
	Type    string             `json:"type"`
	Results []sdk.PlayerResult `json:"results"`
}

// timedPlayer is one player's tally.
type timedPlayer struct {
	score       int
	joinedAt    time.Time // zero while disconnected
	played      time.Duration
	windowStart time.Time
	windowTaps  int
	bad         int
}

// Play implements Game.
func (t Timed) Play(ctx context.Context, room *Room) (Outcome, error) {
	duration, joinTimeout := t.Duration, t.JoinTimeout
	if duration <= 0 {
		duration = DefaultDuration
	}
	if joinTimeout <= 0 {
		joinTimeout = DefaultJoinTimeout
	}
	m := room.Match()
	players := make(map[string]*timedPlayer, len(m.Players))
	for _, p := range m.Players {
		players[p.ID] = &timedPlayer{}
	}
	present := 0
	track := func(msg Message, playing bool) {
		p := players[msg.PlayerID]
		if p == nil {
			return
		}
		switch msg.Kind {
		case Joined:
			// A reconnect replaces the connection without a Left.
			if p.joinedAt.IsZero() {
				present++
				p.joinedAt = msg.At
			}
		case Left:
			if !p.joinedAt.IsZero() {
				present--
				// A leave queued before the start counts nothing.
				if playing && msg.At.After(p.joinedAt) {
					p.played += msg.At.Sub(p.joinedAt)
				}
				p.joinedAt = time.Time{}
			}
		case Frame:
			if !playing {
				return
			}
			if _, err := decodeTimedFrame(msg.Binary, msg.Data); err != nil {
				p.bad++
				return
			}
			if msg.At.Sub(p.windowStart) >= time.Second {
				p.windowStart, p.windowTaps = msg.At, 0
			}
			if p.windowTaps < maxTapsPerSecond {
				p.windowTaps++
				p.score++
			}
		}
	}

	// Lobby: wait for everyone, or for the join timeout with someone.
	lobby := time.NewTimer(joinTimeout)
	defer lobby.Stop()
	for waiting := true; waiting && present < len(players); {
		select {
		case <-ctx.Done():
			return Outcome{}, ctx.Err()
		case msg := <-room.Messages():
			track(msg, false)
		case <-lobby.C:
			waiting = false
		}
	}
	if present == 0 {
		return Outcome{}, ErrNoPlayers
	}

	started := time.Now()
	for _, p := range players {
		if !p.joinedAt.IsZero() {
			p.joinedAt = started
		}
	}
	if err := room.Started(ctx); err != nil {
		return Outcome{}, fmt.Errorf("report game start: %w", err)
	}
	startFrame, _ := json.Marshal(timedStartFrame{Type: "start", DurationMS: duration.Milliseconds()})
	room.Broadcast(false, startFrame)

	end := time.NewTimer(duration)
	defer end.Stop()
	for playing := true; playing; {
		select {
		case <-ctx.Done():
			return Outcome{}, ctx.Err()
		case msg := <-room.Messages():
			track(msg, true)
		case <-end.C:
			playing = false
		}
	}
	ended := time.Now()
	results := make([]sdk.PlayerResult, 0, len(m.Players))
	for _, mp := range m.Players {
		p := players[mp.ID]
		if !p.joinedAt.IsZero() {
			p.played += ended.Sub(p.joinedAt)
		}
		results = append(results, sdk.PlayerResult{PlayerID: mp.ID, Score: p.score, TimePlayedS: p.played.Seconds()})
	}
	rankByScore(results)
	endFrame, _ := json.Marshal(timedEndFrame{Type: "end", Results: results})
	room.Broadcast(false, endFrame)
	return Outcome{StartedAt: started, EndedAt: ended, Players: results}, nil
}

// rankByScore sorts results by descending score and sets placements; equal
// scores share a placement (1, 2, 2, 4).
func rankByScore(results []sdk.PlayerResult) {
	slices.SortStableFunc(results, func(a, b sdk.PlayerResult) int { return b.Score - a.Score })
	for i := range results {
		if i > 0 && results[i].Score == results[i-1].Score {
			results[i].Placement = results[i-1].Placement
		} else {
			results[i].Placement = i + 1
		}
	}
}
