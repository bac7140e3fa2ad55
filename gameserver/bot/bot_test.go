package bot

import (
	"fmt"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/atollgg/atoll/gameserver/arena"
	"github.com/atollgg/atoll/gameserver/netcode"
)

// player is one in-process bot client with its own snapshot stream.
type player struct {
	id    arena.PlayerID
	brain *Bot
	sconn *netcode.ServerConn
	cconn *netcode.ClientConn
}

type matchResult struct {
	results []arena.Result
	events  []arena.Event
	hash    uint64
	ticks   uint32
	reason  arena.EndReason
	winner  arena.PlayerID
}

// playMatch runs bots to the end of a match, entirely in process but through
// the real wire format: every bot decodes its own delta snapshots and sends
// encoded input frames.
func playMatch(t *testing.T, cfg arena.Config, bots int, seed uint64) matchResult {
	t.Helper()
	w, err := arena.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	hist := netcode.NewHistory()
	var players []*player
	for i := range bots {
		id, err := w.AddPlayer(fmt.Sprintf("bot-%d", i))
		if err != nil {
			t.Fatal(err)
		}
		brain, err := New(w.Config(), id, seed+uint64(i))
		if err != nil {
			t.Fatal(err)
		}
		players = append(players, &player{id: id, brain: brain, sconn: netcode.NewServerConn(hist, netcode.Binary), cconn: netcode.NewClientConn()})
	}
	var (
		out    matchResult
		buf    []byte
		sf     netcode.ServerFrame
		cf     netcode.ClientFrame
		events []arena.Event
	)
	snap := hist.Capture(w)
	for {
		if over, _ := w.Over(); over {
			break
		}
		if w.Tick() > 1_000_000 {
			t.Fatal("match never ended")
		}
		for _, p := range players {
			if buf, err = p.sconn.AppendSnapshot(buf[:0], snap, w.LastProcessedSeq(p.id)); err != nil {
				t.Fatal(err)
			}
			if err := p.cconn.DecodeServerFrame(buf, &sf); err != nil {
				t.Fatal(err)
			}
			if sf.Snapshot.AckSeq != w.LastProcessedSeq(p.id) || len(sf.Snapshot.Players) != len(snap.Players) {
				t.Fatalf("tick %d: bot %d decoded a different snapshot", snap.Tick, p.id)
			}
			p.sconn.Ack(sf.Snapshot.Tick)
			in := p.brain.Next(sf.Snapshot)
			cf = netcode.ClientFrame{Kind: netcode.FrameInput, Inputs: append(cf.Inputs[:0], in)}
			if buf, err = netcode.AppendClientFrame(buf[:0], netcode.Binary, &cf); err != nil {
				t.Fatal(err)
			}
			if err := netcode.DecodeClientFrame(buf, &cf); err != nil {
				t.Fatal(err)
			}
			if _, err := w.ApplyInput(p.id, cf.Inputs[0]); err != nil {
				t.Fatal(err)
			}
		}
		w.Step()
		events, _ = w.DrainEvents(events)
		snap = hist.Capture(w)
	}
	if v, _ := w.DrainViolations(nil); len(v) != 0 {
		t.Fatalf("honest bots committed %d violations, first %+v", len(v), v[0])
	}
	out.results, out.events, out.hash, out.ticks = w.Results(), events, w.StateHash(), w.Tick()
	_, out.reason = w.Over()
	out.winner = w.Winner()
	return out
}

func TestEightBotMatch(t *testing.T) {
	cfg := arena.Config{Seed: 2024, ScoreLimit: 15, TimeLimit: 4 * time.Minute}
	m := playMatch(t, cfg, 8, 77)
	full := cfg.WithDefaults()
	limitTicks := full.DurationTicks(full.TimeLimit)
	t.Logf("match ended at tick %d (%v) by %v; winner %d", m.ticks, full.TickDuration(m.ticks), m.reason, m.winner)

	var kills, deaths, killEvents, ends int
	for _, e := range m.events {
		switch e.Kind {
		case arena.EventKill:
			killEvents++
			if e.Player == e.Other {
				t.Fatalf("self-kill event %+v: projectiles never hit their owner", e)
			}
		case arena.EventMatchEnd:
			ends++
			if e.Reason != m.reason || e.Player != m.winner || e.Tick != m.ticks {
				t.Fatalf("end event %+v disagrees with the world", e)
			}
		}
	}
	for _, r := range m.results {
		t.Logf("%s: score %d, kills %d, deaths %d, played %v", r.Account, r.Score, r.Kills, r.Deaths, r.TimePlayed)
		kills += r.Kills
		deaths += r.Deaths
		if r.Score != r.Kills {
			t.Fatalf("%s: score %d != kills %d (one point per kill)", r.Account, r.Score, r.Kills)
		}
		if r.TimePlayed != full.TickDuration(m.ticks) || !r.Connected {
			t.Fatalf("%s played %v, connected %v; want the whole match", r.Account, r.TimePlayed, r.Connected)
		}
	}
	// Every death is someone's kill: this ruleset has no suicides.
	if kills != deaths || kills != killEvents {
		t.Fatalf("kills %d, deaths %d, kill events %d must agree", kills, deaths, killEvents)
	}
	if ends != 1 || len(m.results) != 8 {
		t.Fatalf("%d end events, %d results", ends, len(m.results))
	}
	if !slices.IsSortedFunc(m.results, func(a, b arena.Result) int { return b.Score - a.Score }) {
		t.Fatal("results are not sorted by score")
	}
	switch m.reason {
	case arena.EndScoreLimit:
		if m.results[0].Score < cfg.ScoreLimit || m.results[0].Player != m.winner {
			t.Fatalf("score limit end, but the top score is %d by %d", m.results[0].Score, m.results[0].Player)
		}
		if m.ticks > limitTicks {
			t.Fatal("match ran past its time limit")
		}
	case arena.EndTimeLimit:
		if m.ticks != limitTicks || m.results[0].Score >= cfg.ScoreLimit {
			t.Fatalf("time limit end at tick %d (limit %d), top score %d", m.ticks, limitTicks, m.results[0].Score)
		}
	default:
		t.Fatalf("end reason %v", m.reason)
	}
	// Bots must actually fight for this to test anything.
	if kills < cfg.ScoreLimit {
		t.Fatalf("only %d kills in the whole match", kills)
	}

	// The whole match, bots included, replays identically.
	if again := playMatch(t, cfg, 8, 77); again.hash != m.hash || !slices.Equal(again.results, m.results) {
		t.Fatal("the same match replayed differently")
	}
}

func TestBotAimsWithLead(t *testing.T) {
	cfg := arena.Config{Obstacles: []arena.Rect{}}
	b, err := New(cfg, 0, 1)
	if err != nil {
		t.Fatal(err)
	}
	pos, tp := arena.Vec2{X: 10, Y: 10}, arena.Vec2{X: 30, Y: 10}
	if got := b.lead(pos, tp, arena.Vec2{}); got != tp {
		t.Fatalf("stationary target: aim at %v", got)
	}
	vel := arena.Vec2{Y: 8}
	aim := b.lead(pos, tp, vel)
	// A projectile fired at aim meets the target there.
	tProj := aim.Dist(pos) / b.speed
	if meet := tp.Add(vel.Scale(tProj)); meet.Dist(aim) > 1e-9 {
		t.Fatalf("lead %v misses: target is at %v when the projectile arrives", aim, meet)
	}
	if got := b.lead(pos, tp, arena.Vec2{Y: 100}); got != tp {
		t.Fatal("a target faster than the projectile should be aimed at directly")
	}
}

func view(tick uint32, players ...netcode.PlayerState) *netcode.Snapshot {
	return &netcode.Snapshot{Tick: tick, Players: players}
}

func at(id arena.PlayerID, x, y float64) netcode.PlayerState {
	return netcode.PlayerState{ID: id, X: netcode.Quantize(x), Y: netcode.Quantize(y), Flags: netcode.FlagAlive | netcode.FlagConnected, Health: 100}
}

func TestBotFiresOnCooldownInRangeWithClearShot(t *testing.T) {
	cfg := arena.Config{Obstacles: []arena.Rect{{Min: arena.Vec2{X: 40, Y: 20}, Max: arena.Vec2{X: 42, Y: 40}}}}
	b, err := New(cfg, 0, 1)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name      string
		me, enemy netcode.PlayerState
		fires     bool
	}{
		{"in range", at(0, 10, 10), at(1, 20, 10), true},
		{"out of range", at(0, 10, 10), at(1, 60, 10), false},
		{"behind a wall", at(0, 30, 30), at(1, 50, 30), false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b.Reset()
			shots := 0
			for tick := range uint32(60) {
				in := b.Next(view(tick, tc.me, tc.enemy))
				if in.Fire {
					shots++
				}
			}
			want := 0
			if tc.fires {
				want = 60 / int(b.cooldown)
			}
			if shots < want || shots > want+1 {
				t.Fatalf("%d shots in 60 ticks, want %d (cooldown %d)", shots, want, b.cooldown)
			}
		})
	}
	// A dead bot idles, and keeps numbering.
	b.Reset()
	dead := at(0, 10, 10)
	dead.Flags = netcode.FlagConnected
	if in := b.Next(view(1, dead, at(1, 12, 10))); in.Fire || in.MoveX != 0 || in.MoveY != 0 || in.Seq != 1 {
		t.Fatalf("dead bot input %+v", in)
	}
}

func TestBotAvoidsWallsAndIsDeterministic(t *testing.T) {
	cfg := arena.Config{}
	b, err := New(cfg, 0, 5)
	if err != nil {
		t.Fatal(err)
	}
	// Hugging the left edge with nobody around: the push points inward.
	if p := b.avoidWalls(arena.Vec2{X: 0.6, Y: 20}); p.X <= 0 {
		t.Fatalf("push %v does not point away from the edge", p)
	}
	if p := b.avoidWalls(arena.Vec2{X: 10, Y: 10}); p != (arena.Vec2{}) {
		t.Fatalf("push %v in open space", p)
	}
	run := func() []arena.Input {
		b, _ := New(cfg, 0, 5)
		var ins []arena.Input
		for tick := range uint32(200) {
			x := 20 + 10*math.Sin(float64(tick)/20)
			ins = append(ins, b.Next(view(tick, at(0, x, 20), at(1, 30, 30), at(2, 70, 50))))
		}
		return ins
	}
	a, c := run(), run()
	if !slices.Equal(a, c) {
		t.Fatal("the same seed and views produced different inputs")
	}
	for _, in := range a {
		if math.Hypot(float64(in.MoveX), float64(in.MoveY)) > 1+1e-6 {
			t.Fatalf("bot asked for an over-speed move %+v", in)
		}
	}
}
