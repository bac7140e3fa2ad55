package arena

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

// openConfig is an obstacle-free arena, so tests control every line of fire.
func openConfig() Config {
	return Config{Obstacles: []Rect{}, Seed: 7}
}

func newWorld(t *testing.T, cfg Config) *World {
	t.Helper()
	w, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return w
}

func addPlayer(t *testing.T, w *World, account string) PlayerID {
	t.Helper()
	id, err := w.AddPlayer(account)
	if err != nil {
		t.Fatalf("AddPlayer(%q): %v", account, err)
	}
	return id
}

// place teleports a player (test-only) and rewrites the current history
// frame, as if it had always stood there.
func place(w *World, id PlayerID, pos Vec2) {
	w.players[id].pos = pos
	w.players[id].vel = Vec2{}
	w.hist.record(w.tick, &w.players)
}

func apply(t *testing.T, w *World, id PlayerID, in Input) InputOutcome {
	t.Helper()
	out, err := w.ApplyInput(id, in)
	if err != nil {
		t.Fatalf("ApplyInput(%d, %+v): %v", id, in, err)
	}
	return out
}

func drainViolations(w *World) []Violation {
	v, _ := w.DrainViolations(nil)
	return v
}

// scriptedMatch drives a world with pseudo-random inputs, joins and leaves
// from its own seeded PRNG, returning the state hash after every tick.
func scriptedMatch(t *testing.T, cfg Config, ticks int, script uint64) ([]uint64, *World) {
	t.Helper()
	w := newWorld(t, cfg)
	r := rand.New(rand.NewPCG(script, 1))
	const n = 8
	ids := make([]PlayerID, n)
	seqs := make([]uint32, n)
	connected := make([]bool, n)
	for i := range n {
		ids[i] = addPlayer(t, w, fmt.Sprintf("player-%d", i))
		connected[i] = true
	}
	hashes := make([]uint64, 0, ticks)
	for range ticks {
		for i := range n {
			if r.IntN(400) == 0 {
				if connected[i] {
					if err := w.RemovePlayer(ids[i]); err != nil {
						t.Fatal(err)
					}
				} else if id, err := w.AddPlayer(fmt.Sprintf("player-%d", i)); err == nil {
					ids[i], seqs[i] = id, 0
				}
				connected[i] = !connected[i]
			}
			if !connected[i] {
				continue
			}
			seqs[i]++
			// Walk randomly, aim roughly at the next player, and mostly
			// respect the cooldown; the occasional cheat makes violations
			// (and kicks) part of what must replay identically.
			dir := AngleFromRadians(r.Float64() * 2 * math.Pi).Dir()
			aim := r.Float64() * 2 * math.Pi
			me, _ := w.Player(ids[i])
			if other, ok := w.Player(ids[(i+1)%n]); ok {
				d := other.Pos.Sub(me.Pos)
				aim = math.Atan2(d.Y, d.X) + (r.Float64()-0.5)*0.2
			}
			fire := seqs[i]%w.t.cooldown == 0 || r.IntN(300) == 0
			in := Input{
				Seq: seqs[i], Tick: w.Tick(),
				MoveX: float32(dir.X), MoveY: float32(dir.Y),
				Aim: float32(aim), Fire: fire,
			}
			_, err := w.ApplyInput(ids[i], in)
			switch {
			case errors.Is(err, ErrUnknownPlayer):
				connected[i] = false // kicked; AddPlayer will keep failing
			case err != nil && !errors.Is(err, ErrMatchOver):
				t.Fatal(err)
			}
		}
		w.Step()
		hashes = append(hashes, w.StateHash())
	}
	return hashes, w
}

func TestDeterminism(t *testing.T) {
	cfg := Config{Seed: 42, ProjectileDamage: 50, Width: 40, Height: 30}
	a, wa := scriptedMatch(t, cfg, 3000, 9)
	b, _ := scriptedMatch(t, cfg, 3000, 9)
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("worlds diverged at tick %d", i+1)
		}
	}
	// The script must exercise combat, reconnects and anti-cheat for the
	// comparison to mean something.
	var kills, kicks, leaves int
	for _, r := range wa.Results() {
		kills += r.Kills
		if r.Kicked {
			kicks++
		}
	}
	events, _ := wa.DrainEvents(nil)
	for _, e := range events {
		if e.Kind == EventLeave {
			leaves++
		}
	}
	t.Logf("scripted match: %d kills, %d kicks, %d leaves", kills, kicks, leaves)
	if kills == 0 || leaves == 0 {
		t.Fatalf("script too tame: %d kills, %d leaves", kills, leaves)
	}
	cfg.Seed = 43
	if c, _ := scriptedMatch(t, cfg, 3000, 9); c[len(c)-1] == a[len(a)-1] {
		t.Fatal("a different spawn seed produced the same final state; the hash is not sensitive")
	}
}

func TestDuplicateAndOrderedInputs(t *testing.T) {
	w := newWorld(t, openConfig())
	id := addPlayer(t, w, "a")
	place(w, id, Vec2{10, 10})
	if out := apply(t, w, id, Input{Seq: 1, MoveX: 1}); out != InputApplied {
		t.Fatalf("first input: %v", out)
	}
	pos, _ := w.Player(id)
	for _, seq := range []uint32{1, 0} {
		if out := apply(t, w, id, Input{Seq: seq, MoveX: 1}); out != InputDuplicate {
			t.Fatalf("seq %d: %v, want duplicate", seq, out)
		}
	}
	if again, _ := w.Player(id); again.Pos != pos.Pos {
		t.Fatal("a duplicate input moved the player")
	}
	apply(t, w, id, Input{Seq: 5, MoveX: 1})
	if got := w.LastProcessedSeq(id); got != 5 {
		t.Fatalf("LastProcessedSeq = %d, want 5", got)
	}
	if out := apply(t, w, id, Input{Seq: 3, MoveX: 1}); out != InputDuplicate {
		t.Fatalf("out-of-order input: %v, want duplicate", out)
	}
	if v := drainViolations(w); len(v) != 0 {
		t.Fatalf("honest inputs produced violations: %v", v)
	}
}

func TestSpeedHackIsClampedAndCounted(t *testing.T) {
	cfg := openConfig()
	cfg.KickThreshold = 100000 // observe clamping, not the kick
	w := newWorld(t, cfg)
	id := addPlayer(t, w, "cheater")
	start := Vec2{5, 32}
	place(w, id, start)
	const ticks, perTick = 60, 3
	seq := uint32(0)
	for range ticks {
		for range perTick {
			seq++
			apply(t, w, id, Input{Seq: seq, Tick: w.Tick(), MoveX: 1})
		}
		w.Step()
	}
	p, _ := w.Player(id)
	maxDist := float64(ticks+cfg.WithDefaults().InputBurst) * w.move.MaxStep()
	if d := p.Pos.Dist(start); d > maxDist+1e-9 {
		t.Fatalf("cheater travelled %.2f units, honest maximum is %.2f", d, maxDist)
	}
	counts := w.Violations(id)
	// Every Step but the last refills one tick of budget for the inputs.
	wantClamped := uint32(ticks*perTick - (ticks - 1) - cfg.WithDefaults().InputBurst)
	if counts[ViolationSpeed] != wantClamped {
		t.Fatalf("speed violations = %d, want %d", counts[ViolationSpeed], wantClamped)
	}

	// An oversized move vector is clamped to unit speed and counted too.
	place(w, id, start)
	for range 10 {
		w.Step()
	}
	seq++
	if out := apply(t, w, id, Input{Seq: seq, Tick: w.Tick(), MoveX: 1, MoveY: 1}); out != InputPartial {
		t.Fatalf("oversized vector outcome %v, want partial", out)
	}
	p, _ = w.Player(id)
	if d := p.Pos.Dist(start); d > w.move.MaxStep()+1e-9 {
		t.Fatalf("oversized vector moved %.3f, step is %.3f", d, w.move.MaxStep())
	}
	if got := w.Violations(id)[ViolationSpeed]; got != wantClamped+1 {
		t.Fatalf("oversized vector not counted: %d", got)
	}
}

func TestFireRateHackIsRejectedAndCounted(t *testing.T) {
	cfg := openConfig()
	cfg.KickThreshold = 100000
	for _, tc := range []struct {
		name    string
		seqStep uint32 // a cheater may also inflate Seq to fake elapsed time
	}{{"every input", 1}, {"inflated seq", 100}} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t, cfg)
			id := addPlayer(t, w, "cheater")
			place(w, id, Vec2{5, 5})
			cd := w.t.cooldown
			const ticks = 120
			seq, shots := uint32(0), 0
			for range ticks {
				seq += tc.seqStep
				before := w.nextProjID
				apply(t, w, id, Input{Seq: seq, Tick: w.Tick(), Aim: 0.3, Fire: true})
				shots += int(w.nextProjID - before)
				w.Step()
			}
			// The credit starts with two shots banked, then refills one
			// shot per cooldown.
			maxShots := ticks/int(cd) + 2
			if shots > maxShots {
				t.Fatalf("fired %d shots in %d ticks, cooldown allows %d", shots, ticks, maxShots)
			}
			if shots < ticks/int(cd) {
				t.Fatalf("fired only %d shots; legitimate ones were rejected", shots)
			}
			if got := w.Violations(id)[ViolationFireRate]; int(got) != ticks-shots {
				t.Fatalf("fire-rate violations = %d, want %d", got, ticks-shots)
			}
		})
	}
}

func TestHonestJitteryClientIsNeverFlagged(t *testing.T) {
	w := newWorld(t, Config{Seed: 3})
	id := addPlayer(t, w, "honest")
	r := rand.New(rand.NewPCG(5, 5))
	cd := w.t.cooldown
	type pending struct {
		in     Input
		arrive uint32
	}
	var queue []pending
	lastArrive := uint32(0)
	for seq := uint32(1); seq <= 3000; seq++ {
		// One input per tick, fired at exactly the cooldown, delivered in
		// order with 0..5 ticks of jitter (a TCP-like stream bunching up).
		arrive := max(w.Tick()+uint32(r.IntN(6)), lastArrive)
		lastArrive = arrive
		dir := AngleFromRadians(r.Float64() * 2 * math.Pi).Dir()
		in := Input{Seq: seq, Tick: w.Tick(), MoveX: float32(dir.X), MoveY: float32(dir.Y), Aim: 1, Fire: seq%cd == 0}
		queue = append(queue, pending{in, arrive})
		for len(queue) > 0 && queue[0].arrive <= w.Tick() {
			if _, err := w.ApplyInput(id, queue[0].in); err != nil {
				t.Fatal(err)
			}
			queue = queue[1:]
		}
		w.Step()
	}
	if v := drainViolations(w); len(v) != 0 {
		t.Fatalf("honest client flagged %d times, first %+v", len(v), v[0])
	}
}

func TestTimingAndMalformedInputsAreRejected(t *testing.T) {
	w := newWorld(t, openConfig())
	id := addPlayer(t, w, "a")
	place(w, id, Vec2{10, 10})
	for range 100 {
		w.Step()
	}
	now := w.Tick()
	nan := float32(math.NaN())
	inf := float32(math.Inf(1))
	cases := []struct {
		name string
		in   Input
		kind ViolationKind
	}{
		{"future", Input{Tick: now + 10, MoveX: 1}, ViolationFutureInput},
		{"far future", Input{Tick: math.MaxUint32, MoveX: 1}, ViolationFutureInput},
		{"too old", Input{Tick: now - 40, MoveX: 1}, ViolationStaleInput},
		{"NaN move", Input{Tick: now, MoveX: nan}, ViolationMalformed},
		{"Inf move", Input{Tick: now, MoveY: -inf}, ViolationMalformed},
		{"move out of range", Input{Tick: now, MoveX: 1.5}, ViolationMalformed},
		{"NaN aim", Input{Tick: now, Aim: nan, Fire: true}, ViolationMalformed},
		{"aim out of range", Input{Tick: now, Aim: 100}, ViolationMalformed},
	}
	seq := uint32(0)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			seq++
			tc.in.Seq = seq
			before, _ := w.Player(id)
			if out := apply(t, w, id, tc.in); out != InputRejected {
				t.Fatalf("outcome %v, want rejected", out)
			}
			after, _ := w.Player(id)
			if after != before {
				t.Fatalf("rejected input changed state: %+v -> %+v", before, after)
			}
			v := drainViolations(w)
			if len(v) != 1 || v[0].Kind != tc.kind || v[0].Player != id || v[0].Seq == 0 {
				t.Fatalf("violations %+v, want one %v", v, tc.kind)
			}
			if w.LastProcessedSeq(id) != seq {
				t.Fatal("a rejected input was not consumed; its redundant copies would be counted again")
			}
		})
	}
	// Within the lead tolerance and the age limit is fine.
	for _, tick := range []uint32{now + 1, now - 29} {
		seq++
		if out := apply(t, w, id, Input{Seq: seq, Tick: tick}); out != InputApplied {
			t.Fatalf("tick %d (now %d): %v", tick, now, out)
		}
	}
}

// TestLagCompensation fires the same shot at a target that stood still and
// then walked away, with different view delays.
func TestLagCompensation(t *testing.T) {
	const stop = 20 // the target starts walking after this tick
	cases := []struct {
		name       string
		view, fire uint32 // the shooter's view tick and the server tick it fires at
		wantHit    bool
	}{
		// 6 ticks (200 ms) of latency, target still in view: hit.
		{"compensated", stop - 2, stop + 4, true},
		// The same shot judged against current positions: miss.
		{"uncompensated", stop + 4, stop + 4, false},
		// 22 ticks of latency: only MaxRewind is honoured, and by then the
		// target had left.
		{"clamped to max rewind", stop - 12, stop + 10, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t, openConfig())
			shooter := addPlayer(t, w, "shooter")
			target := addPlayer(t, w, "target")
			place(w, shooter, Vec2{10, 32})
			place(w, target, Vec2{14, 32})
			var tseq uint32
			for w.Tick() < tc.fire+30 {
				if w.Tick() == tc.fire {
					apply(t, w, shooter, Input{Seq: 1, Tick: tc.view, Aim: 0, Fire: true})
				}
				if w.Tick() >= stop {
					tseq++
					apply(t, w, target, Input{Seq: tseq, Tick: w.Tick(), MoveY: 1})
				}
				w.Step()
			}
			p, _ := w.Player(target)
			if hit := p.Health < w.cfg.MaxHealth; hit != tc.wantHit {
				t.Fatalf("hit = %v, want %v (health %d)", hit, tc.wantHit, p.Health)
			}
			if w.nextProjID != 1 {
				t.Fatalf("%d projectiles fired, want 1", w.nextProjID)
			}
		})
	}
}

func TestKillsRespawnAndScoreLimit(t *testing.T) {
	cfg := openConfig()
	cfg.ScoreLimit = 2
	cfg.ProjectileDamage = 100
	cfg.RespawnDelay = time.Second
	w := newWorld(t, cfg)
	a := addPlayer(t, w, "a")
	b := addPlayer(t, w, "b")
	seq := uint32(0)
	for kill := 1; kill <= 2; kill++ {
		place(w, a, Vec2{10, 32})
		place(w, b, Vec2{14, 32})
		seq += w.t.cooldown
		apply(t, w, a, Input{Seq: seq, Tick: w.Tick(), Fire: true})
		for range 5 {
			w.Step()
		}
		pb, _ := w.Player(b)
		if pb.Alive || pb.Deaths != kill || pb.RespawnIn == 0 {
			t.Fatalf("kill %d: victim %+v", kill, pb)
		}
		if kill == 2 {
			break
		}
		for pb.RespawnIn > 0 {
			w.Step()
			pb, _ = w.Player(b)
		}
		if !pb.Alive || pb.Health != cfg.WithDefaults().MaxHealth {
			t.Fatalf("victim did not respawn: %+v", pb)
		}
	}
	over, reason := w.Over()
	if !over || reason != EndScoreLimit || w.Winner() != a {
		t.Fatalf("over=%v reason=%v winner=%d", over, reason, w.Winner())
	}
	events, _ := w.DrainEvents(nil)
	var kills, ends int
	for _, e := range events {
		switch e.Kind {
		case EventKill:
			kills++
			if e.Player != a || e.Other != b {
				t.Fatalf("kill event %+v", e)
			}
		case EventMatchEnd:
			ends++
			if e.Reason != EndScoreLimit || e.Player != a {
				t.Fatalf("end event %+v", e)
			}
		}
	}
	if kills != 2 || ends != 1 {
		t.Fatalf("%d kill and %d end events, want 2 and 1", kills, ends)
	}
	if _, err := w.ApplyInput(a, Input{Seq: seq + 100}); !errors.Is(err, ErrMatchOver) {
		t.Fatalf("input after the end: %v", err)
	}
	tick := w.Tick()
	w.Step()
	if w.Tick() != tick {
		t.Fatal("a finished match kept stepping")
	}
	res := w.Results()
	if len(res) != 2 || res[0].Account != "a" || res[0].Score != 2 || res[0].Kills != 2 || res[1].Deaths != 2 {
		t.Fatalf("results %+v", res)
	}
}

func TestTimeLimit(t *testing.T) {
	cfg := openConfig()
	cfg.TimeLimit = 2 * time.Second
	w := newWorld(t, cfg)
	addPlayer(t, w, "a")
	for range 60 {
		if over, _ := w.Over(); over {
			t.Fatalf("ended early at tick %d", w.Tick())
		}
		w.Step()
	}
	if over, reason := w.Over(); !over || reason != EndTimeLimit || w.TicksLeft() != 0 {
		t.Fatalf("over=%v reason=%v left=%d", over, reason, w.TicksLeft())
	}
	if res := w.Results(); res[0].TimePlayed != 2*time.Second {
		t.Fatalf("time played %v, want 2s", res[0].TimePlayed)
	}
	if _, err := w.AddPlayer("late"); !errors.Is(err, ErrMatchOver) {
		t.Fatalf("AddPlayer after the end: %v", err)
	}
}

func TestReconnectWithinGrace(t *testing.T) {
	cfg := openConfig()
	cfg.ReconnectGrace = time.Second
	cfg.ProjectileDamage = 100
	w := newWorld(t, cfg)
	a := addPlayer(t, w, "a")
	b := addPlayer(t, w, "b")
	place(w, a, Vec2{10, 32})
	place(w, b, Vec2{14, 32})
	apply(t, w, a, Input{Seq: 50, Tick: w.Tick(), Fire: true})
	for range 5 {
		w.Step()
	}
	if err := w.RemovePlayer(a); err != nil {
		t.Fatal(err)
	}
	if err := w.RemovePlayer(a); !errors.Is(err, ErrNotConnected) {
		t.Fatalf("double remove: %v", err)
	}
	if _, err := w.ApplyInput(a, Input{Seq: 51}); !errors.Is(err, ErrNotConnected) {
		t.Fatalf("input while disconnected: %v", err)
	}
	for range 10 {
		w.Step()
	}
	again := addPlayer(t, w, "a")
	if again != a {
		t.Fatalf("reconnect got seat %d, want %d", again, a)
	}
	pa, _ := w.Player(a)
	if pa.Score != 1 || !pa.Alive || !pa.Connected {
		t.Fatalf("resumed state %+v", pa)
	}
	if w.LastProcessedSeq(a) != 0 {
		t.Fatal("a new connection must restart input sequencing")
	}
	if out := apply(t, w, a, Input{Seq: 1, Tick: w.Tick()}); out != InputApplied {
		t.Fatalf("first input after reconnect: %v", out)
	}
	if _, err := w.AddPlayer("a"); !errors.Is(err, ErrAlreadyConnected) {
		t.Fatalf("second connection: %v", err)
	}

	// Past the grace period the seat is freed and the record departs.
	if err := w.RemovePlayer(b); err != nil {
		t.Fatal(err)
	}
	for range 31 {
		w.Step()
	}
	if _, ok := w.Player(b); ok {
		t.Fatal("seat still held after the grace period")
	}
	c := addPlayer(t, w, "b")
	if pc, _ := w.Player(c); pc.Deaths != 0 {
		t.Fatal("a late rejoin resumed an expired record")
	}
	res := w.Results()
	if len(res) != 3 {
		t.Fatalf("results %+v, want a, b (departed) and b (rejoined)", res)
	}
	var departed int
	for _, r := range res {
		if r.Account == "b" && !r.Connected && r.Deaths == 1 {
			departed++
		}
	}
	if departed != 1 {
		t.Fatalf("departed record missing from %+v", res)
	}
}

func TestSeatErrors(t *testing.T) {
	w := newWorld(t, Config{MaxPlayers: 2})
	addPlayer(t, w, "a")
	addPlayer(t, w, "b")
	for _, tc := range []struct {
		account string
		want    error
	}{{"c", ErrFull}, {"", ErrInvalidAccountKey}, {string(make([]byte, MaxAccountLen+1)), ErrInvalidAccountKey}} {
		if _, err := w.AddPlayer(tc.account); !errors.Is(err, tc.want) {
			t.Fatalf("AddPlayer(%q) = %v, want %v", tc.account, err, tc.want)
		}
	}
	if _, err := w.ApplyInput(17, Input{Seq: 1}); !errors.Is(err, ErrUnknownPlayer) {
		t.Fatalf("unknown seat: %v", err)
	}
	if _, err := w.ApplyInput(NoPlayer, Input{Seq: 1}); !errors.Is(err, ErrUnknownPlayer) {
		t.Fatalf("NoPlayer: %v", err)
	}
	if err := w.ReportViolation(0, ViolationKind(99)); !errors.Is(err, ErrUnknownViolation) {
		t.Fatalf("unknown kind: %v", err)
	}
}

func TestViolationsKick(t *testing.T) {
	cfg := openConfig()
	cfg.KickThreshold = 5
	w := newWorld(t, cfg)
	id := addPlayer(t, w, "flooder")
	other := addPlayer(t, w, "other")
	place(w, id, Vec2{10, 10})
	apply(t, w, id, Input{Seq: 1, Tick: w.Tick(), Fire: true, Aim: 1})
	for i := range 5 {
		if err := w.ReportViolation(id, ViolationInputFlood); err != nil {
			t.Fatalf("report %d: %v", i, err)
		}
	}
	if _, ok := w.Player(id); ok {
		t.Fatal("player not kicked at the threshold")
	}
	if len(w.projectiles) != 0 {
		t.Fatal("a kicked player's projectiles are still flying")
	}
	events, _ := w.DrainEvents(nil)
	if e := events[len(events)-1]; e.Kind != EventKick || e.Player != id {
		t.Fatalf("last event %+v, want kick", e)
	}
	if _, err := w.AddPlayer("flooder"); !errors.Is(err, ErrKicked) {
		t.Fatalf("rejoin after kick: %v", err)
	}
	if v := drainViolations(w); len(v) != 5 {
		t.Fatalf("%d violations drained, want 5", len(v))
	}
	res := w.Results()
	if len(res) != 2 || !res[1].Kicked && !res[0].Kicked {
		t.Fatalf("results %+v", res)
	}
	// Violations decay: spaced out, the same count does not kick.
	for range 5 {
		if err := w.ReportViolation(other, ViolationMalformed); err != nil {
			t.Fatal(err)
		}
		for range w.t.forgive {
			w.Step()
		}
	}
	if _, ok := w.Player(other); !ok {
		t.Fatal("spaced-out violations kicked the player")
	}
}

func TestInputGate(t *testing.T) {
	if _, err := NewInputGate(0, 10); err == nil {
		t.Fatal("zero budget accepted")
	}
	g, err := NewInputGate(4, 2) // 4 frames per 2 ticks
	if err != nil {
		t.Fatal(err)
	}
	allowed := 0
	for range 10 {
		if g.Allow(100) {
			allowed++
		}
	}
	if allowed != 4 {
		t.Fatalf("burst allowed %d, want 4", allowed)
	}
	if !g.Allow(101) || !g.Allow(101) || g.Allow(101) {
		t.Fatal("one tick should refill two frames")
	}
	// Sustained: two frames per tick pass, a third is refused.
	for tick := uint64(102); tick < 200; tick++ {
		if !g.Allow(tick) || !g.Allow(tick) || g.Allow(tick) {
			t.Fatalf("tick %d: sustained rate wrong", tick)
		}
	}
	if got, err := (Config{}).NewInputGate(); err != nil || got.budget != DefaultInputGateBudget || got.window != 30 {
		t.Fatalf("config gate %+v, %v", got, err)
	}
}

func TestDrainBounds(t *testing.T) {
	cfg := openConfig()
	cfg.KickThreshold = 1_000_000
	w := newWorld(t, cfg)
	id := addPlayer(t, w, "a")
	for range maxPendingViolations + 10 {
		if err := w.ReportViolation(id, ViolationMalformed); err != nil {
			t.Fatal(err)
		}
	}
	v, dropped := w.DrainViolations(nil)
	if len(v) != maxPendingViolations || dropped != 10 {
		t.Fatalf("drained %d, dropped %d", len(v), dropped)
	}
	if v, dropped := w.DrainViolations(nil); len(v) != 0 || dropped != 0 {
		t.Fatal("drain did not reset")
	}
}
