package arenagame_test

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"testing"
	"time"

	"github.com/atollgg/atoll/gameserver/arena"
	"github.com/atollgg/atoll/gameserver/arenagame"
	"github.com/atollgg/atoll/gameserver/client"
	"github.com/atollgg/atoll/gameserver/netcode"
	"github.com/atollgg/atoll/stacktest"
	"github.com/coder/websocket"
)

// sample is one snapshot's view of the cheater.
type sample struct {
	tick          uint32
	pos           arena.Vec2
	alive         bool
	deaths        int32
	myProjectiles []uint32
}

// recorder is a Driver wrapper that records what the player saw of itself.
type recorder struct {
	self    arena.PlayerID
	samples []sample
	input   func(view *netcode.Snapshot, pos arena.Vec2) arena.Input
}

func (r *recorder) Input(view *netcode.Snapshot, pos arena.Vec2) arena.Input {
	if me, ok := view.Player(r.self); ok && (len(r.samples) == 0 || r.samples[len(r.samples)-1].tick < view.Tick) {
		s := sample{tick: view.Tick, pos: me.Pos(), alive: me.Alive(), deaths: me.Deaths}
		for _, p := range view.Projectiles {
			if p.Owner == r.self {
				s.myProjectiles = append(s.myProjectiles, p.ID)
			}
		}
		r.samples = append(r.samples, s)
	}
	in := r.input(view, pos)
	in.Tick = view.Tick
	return in
}

func (r *recorder) Reset() {}

// cheatOutcome is what a cheater's connection ended with.
type cheatOutcome struct {
	code websocket.StatusCode
	kick *netcode.Kick
	rec  *recorder
}

// driverCheat plays with a cheating driver through the ordinary client.
func driverCheat(input func(b *client.Bot) func(*netcode.Snapshot, arena.Vec2) arena.Input) func(*testing.T, context.Context, string, string) cheatOutcome {
	return func(t *testing.T, ctx context.Context, url, token string) cheatOutcome {
		conn, err := client.Dial(ctx, url, token, client.Options{})
		if err != nil {
			t.Fatalf("cheater dial: %v", err)
		}
		w := conn.Welcome()
		b, err := client.NewBot(w.Config, w.Player, 99)
		if err != nil {
			t.Fatal(err)
		}
		rec := &recorder{self: w.Player, input: input(b)}
		res, err := conn.Play(ctx, rec)
		var ce *client.CloseError
		if !errors.As(err, &ce) {
			t.Fatalf("cheater's play ended with %v, want the server closing it", err)
		}
		return cheatOutcome{code: ce.Code, kick: res.Kick, rec: rec}
	}
}

// rawCheat drives a raw connection: act runs for every new snapshot until
// the server closes the connection.
func rawCheat(act func(r *raw, ctx context.Context, seq *uint32)) func(*testing.T, context.Context, string, string) cheatOutcome {
	return func(t *testing.T, ctx context.Context, url, token string) cheatOutcome {
		r := dialRaw(t, ctx, url, token)
		var seq, last uint32
		for {
			if err := r.untilSnapshot(ctx, last); err != nil {
				var ce websocket.CloseError
				if !errors.As(err, &ce) {
					t.Fatalf("cheater's connection ended with %v, want the server closing it", err)
				}
				return cheatOutcome{code: ce.Code, kick: r.kick}
			}
			last = r.latest.Tick
			act(r, ctx, &seq)
		}
	}
}

// input is an honest-looking input at the cheater's view.
func input(seq *uint32, tick uint32) arena.Input {
	*seq++
	return arena.Input{Seq: *seq, Tick: tick, MoveX: 0.6, MoveY: -0.3, Aim: 1}
}

func TestAntiCheatRejectsReportsAndKicks(t *testing.T) {
	const limit = 8 * time.Second
	env := stacktest.Start(t, stacktest.Options{Game: arenagame.Config{Arena: smallArena(limit)}, Servers: 3})
	cases := []struct {
		name  string
		want  string // violation kind reported
		cheat func(*testing.T, context.Context, string, string) cheatOutcome
		check func(*testing.T, arena.Config, cheatOutcome)
	}{
		{
			name: "oversized move vector", want: "speed",
			// Steer like a bot, but always along a diagonal at full tilt on
			// both axes: a vector of length √2.
			cheat: driverCheat(func(b *client.Bot) func(*netcode.Snapshot, arena.Vec2) arena.Input {
				return func(v *netcode.Snapshot, pos arena.Vec2) arena.Input {
					in := b.Input(v, pos)
					in.MoveX = float32(math.Copysign(1, float64(in.MoveX)))
					in.MoveY = float32(math.Copysign(1, float64(in.MoveY)))
					return in
				}
			}),
			check: func(t *testing.T, cfg arena.Config, o cheatOutcome) {
				// The vector was clamped: on average the cheater moved no
				// faster than MaxSpeed (network jitter may bunch two inputs
				// into one tick, so single ticks prove nothing).
				step := cfg.MaxSpeed / float64(cfg.TickRate)
				dist, ticks := 0.0, uint32(0)
				for i := 1; i < len(o.rec.samples); i++ {
					a, b := o.rec.samples[i-1], o.rec.samples[i]
					if !a.alive || !b.alive || a.deaths != b.deaths {
						continue
					}
					dist += a.pos.Dist(b.pos)
					ticks += b.tick - a.tick
				}
				if speed := dist / float64(ticks); ticks < 20 || speed > step*1.1 {
					t.Errorf("cheater moved %.3f units per tick over %d ticks; the limit is %.3f (unclamped: %.3f)",
						speed, ticks, step, step*math.Sqrt2)
				}
			},
		},
		{
			name: "fires every tick", want: "fire_rate",
			cheat: driverCheat(func(b *client.Bot) func(*netcode.Snapshot, arena.Vec2) arena.Input {
				return func(v *netcode.Snapshot, pos arena.Vec2) arena.Input {
					in := b.Input(v, pos)
					in.Fire = true
					return in
				}
			}),
			check: func(t *testing.T, cfg arena.Config, o cheatOutcome) {
				seen := map[uint32]bool{}
				for _, s := range o.rec.samples {
					for _, id := range s.myProjectiles {
						seen[id] = true
					}
				}
				n := len(o.rec.samples)
				if n == 0 {
					t.Fatal("cheater saw no snapshots")
				}
				span := o.rec.samples[n-1].tick - o.rec.samples[0].tick
				allowed := int(span/cfg.DurationTicks(cfg.FireCooldown)) + 2
				if len(seen) == 0 || len(seen) > allowed {
					t.Errorf("cheater got %d projectiles out in %d ticks; the fire rate allows %d", len(seen), span, allowed)
				}
			},
		},
		{
			name: "sped-up client", want: "speed",
			cheat: rawCheat(func(r *raw, ctx context.Context, seq *uint32) {
				// Three inputs per server tick.
				ins := []arena.Input{input(seq, r.latest.Tick), input(seq, r.latest.Tick), input(seq, r.latest.Tick)}
				r.sendFrame(ctx, &netcode.ClientFrame{Kind: netcode.FrameInput, Inputs: ins, HasAck: true, AckTick: r.latest.Tick})
			}),
		},
		{
			name: "input flood", want: "input_flood",
			cheat: rawCheat(func(r *raw, ctx context.Context, seq *uint32) {
				for range 20 {
					r.sendFrame(ctx, &netcode.ClientFrame{Kind: netcode.FramePing})
				}
			}),
		},
		{
			name: "malformed frames", want: "malformed",
			cheat: rawCheat(func(r *raw, ctx context.Context, seq *uint32) {
				_ = r.ws.Write(ctx, websocket.MessageBinary, []byte{0x7f, 0xff, 0xff})
				_ = r.ws.Write(ctx, websocket.MessageText, []byte(`{"kind":"input","inputs":[{"seq":1,"move_x":"fast"}]}`))
				_ = r.ws.Write(ctx, websocket.MessageBinary, make([]byte, netcode.MaxClientFrameSize+1))
			}),
		},
		{
			name: "inputs from the future", want: "future_input",
			cheat: rawCheat(func(r *raw, ctx context.Context, seq *uint32) {
				in := input(seq, r.latest.Tick+1000)
				r.sendFrame(ctx, &netcode.ClientFrame{Kind: netcode.FrameInput, Inputs: []arena.Input{in}})
			}),
		},
		{
			name: "inputs too far in the past", want: "stale_input",
			cheat: rawCheat(func(r *raw, ctx context.Context, seq *uint32) {
				if r.latest.Tick <= 45 { // MaxInputAge is 30 ticks at 30 Hz
					return
				}
				in := input(seq, 1)
				r.sendFrame(ctx, &netcode.ClientFrame{Kind: netcode.FrameInput, Inputs: []arena.Input{in}})
			}),
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			session, alloc := env.Allocate(t, "honest", "cheater")
			ctx, cancel := context.WithTimeout(context.Background(), stacktest.WaitTimeout)
			defer cancel()
			honest := make(chan error, 1)
			go func() {
				conn, err := client.Dial(ctx, stacktest.URL(alloc), env.Token(t, alloc, "honest"), client.Options{})
				if err != nil {
					honest <- err
					return
				}
				res, err := conn.PlayBot(ctx, 7)
				if err == nil && !res.Over {
					err = errors.New("match not over")
				}
				honest <- err
			}()
			out := tc.cheat(t, ctx, stacktest.URL(alloc), env.Token(t, alloc, "cheater"))
			if out.code != arenagame.CloseKicked || out.kick == nil || out.kick.Reason != netcode.KickViolations {
				t.Errorf("cheater closed with %d (kick %+v), want %d after a violations kick", out.code, out.kick, arenagame.CloseKicked)
			}
			if tc.check != nil {
				tc.check(t, arena.Config(smallArena(limit)).WithDefaults(), out)
			}
			// A kicked player stays out, even with a fresh token.
			if code := redial(t, ctx, stacktest.URL(alloc), env.Token(t, alloc, "cheater")); code != arenagame.CloseKicked {
				t.Errorf("kicked cheater reconnecting: closed with %d, want %d", code, arenagame.CloseKicked)
			}
			// The honest player plays on to the end, untouched.
			if err := <-honest; err != nil {
				t.Fatalf("honest player: %v", err)
			}
			ev := env.SessionEnd(t, session)
			if ev.Results == nil || len(ev.Results.Players) != 2 {
				t.Fatalf("session end %+v: want results for both players", ev)
			}
			tele := env.Telemetry(session)
			got := kinds(t, tele, "cheater")
			if got[tc.want] == 0 || got["kick"] != 1 {
				t.Errorf("cheater's telemetry %v: want %q violations and one kick", got, tc.want)
			}
			if h := kinds(t, tele, "honest"); len(h) != 0 {
				t.Errorf("honest player's telemetry: %v, want none", sortedKeys(h))
			}
		})
	}
}

// redial connects again and returns how the server closes the connection.
func redial(t *testing.T, ctx context.Context, url, token string) websocket.StatusCode {
	t.Helper()
	ws, _, err := websocket.Dial(ctx, url, nil)
	if err != nil {
		t.Fatalf("redial: %v", err)
	}
	defer ws.CloseNow()
	hello, _ := json.Marshal(map[string]string{"token": token})
	if err := ws.Write(ctx, websocket.MessageText, hello); err != nil {
		t.Fatal(err)
	}
	for {
		if _, _, err := ws.Read(ctx); err != nil {
			var ce websocket.CloseError
			if !errors.As(err, &ce) {
				t.Fatalf("redial: %v", err)
			}
			return ce.Code
		}
	}
}
