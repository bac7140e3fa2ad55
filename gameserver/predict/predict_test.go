package predict

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/atollgg/atoll/gameserver/arena"
	"github.com/atollgg/atoll/gameserver/netcode"
)

// link is a deterministic simulated network path: delays counted in ticks,
// seeded loss and jitter (which reorders), no real time.
type link struct {
	r             *rand.Rand
	loss          float64
	delay, jitter int
	q             []packet
	n             int
}

type packet struct {
	at, order int
	data      []byte
}

func (l *link) send(now int, data []byte) {
	if l.r.Float64() < l.loss {
		return
	}
	l.q = append(l.q, packet{at: now + l.delay + l.r.IntN(l.jitter+1), order: l.n, data: append([]byte(nil), data...)})
	l.n++
}

// deliver pops every packet due by now, in arrival order.
func (l *link) deliver(now int) [][]byte {
	slices.SortStableFunc(l.q, func(a, b packet) int {
		if a.at != b.at {
			return a.at - b.at
		}
		return a.order - b.order
	})
	var out [][]byte
	for len(l.q) > 0 && l.q[0].at <= now {
		out = append(out, l.q[0].data)
		l.q = l.q[1:]
	}
	return out
}

type scenario struct {
	name          string
	loss          float64
	delay, jitter int
	redundancy    int // inputs per frame
}

type client struct {
	id       arena.PlayerID
	pred     *Predictor
	sconn    *netcode.ServerConn
	cconn    *netcode.ClientConn
	gate     *arena.InputGate
	up, down link
	newest   uint32
	hasSnap  bool
	heading  float64
	applied  map[uint32]bool // seqs the server applied (test bookkeeping)
	prevAck  uint32
	checked  uint64
	worstGap int
}

// runScenario plays a match between four predicting clients and a server
// over simulated links, checking every measured prediction error against
// the inputs the network actually lost.
func runScenario(t *testing.T, sc scenario, ticks int) []*client {
	t.Helper()
	cfg := arena.Config{Seed: 11, ProjectileDamage: 20}
	w, err := arena.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	hist := netcode.NewHistory()
	r := rand.New(rand.NewPCG(21, 22))
	var clients []*client
	for i := range 4 {
		id, err := w.AddPlayer(fmt.Sprintf("c%d", i))
		if err != nil {
			t.Fatal(err)
		}
		// The client learns the rules from a real Welcome frame.
		wf, err := netcode.AppendServerFrame(nil, netcode.Binary, &netcode.ServerFrame{
			Kind: netcode.FrameWelcome, Welcome: netcode.Welcome{Version: netcode.ProtocolVersion, Player: id, Config: w.Config()}})
		if err != nil {
			t.Fatal(err)
		}
		c := &client{id: id, cconn: netcode.NewClientConn(), sconn: netcode.NewServerConn(hist, netcode.Binary), applied: map[uint32]bool{}}
		var f netcode.ServerFrame
		if err := c.cconn.DecodeServerFrame(wf, &f); err != nil {
			t.Fatal(err)
		}
		if c.pred, err = New(f.Welcome.Config); err != nil {
			t.Fatal(err)
		}
		if c.gate, err = w.Config().NewInputGate(); err != nil {
			t.Fatal(err)
		}
		c.up = link{r: rand.New(rand.NewPCG(uint64(i), 1)), loss: sc.loss, delay: sc.delay, jitter: sc.jitter}
		c.down = link{r: rand.New(rand.NewPCG(uint64(i), 2)), loss: sc.loss, delay: sc.delay, jitter: sc.jitter}
		c.heading = r.Float64() * 2 * math.Pi
		clients = append(clients, c)
	}
	step := w.Movement()
	maxStep := step.MaxStep()
	cd := w.Config().DurationTicks(w.Config().FireCooldown)
	var cf netcode.ClientFrame
	var sf netcode.ServerFrame
	var buf []byte

	for tick := range ticks {
		// Server: apply what arrived, step, send each client a snapshot.
		for _, c := range clients {
			for _, data := range c.up.deliver(tick) {
				if !c.gate.Allow(uint64(w.Tick())) {
					t.Fatalf("honest client %d hit the flood gate", c.id)
				}
				if err := netcode.DecodeClientFrame(data, &cf); err != nil {
					t.Fatal(err)
				}
				for _, in := range cf.Inputs {
					out, err := w.ApplyInput(c.id, in)
					if err != nil {
						t.Fatal(err)
					}
					if out != arena.InputDuplicate {
						c.applied[in.Seq] = true
					}
				}
				if cf.HasAck {
					c.sconn.Ack(cf.AckTick)
				}
			}
		}
		w.Step()
		snap := hist.Capture(w)
		for _, c := range clients {
			if buf, err = c.sconn.AppendSnapshot(buf[:0], snap, w.LastProcessedSeq(c.id)); err != nil {
				t.Fatal(err)
			}
			c.down.send(tick, buf)
		}

		// Clients: reconcile, then predict and send one more input.
		for _, c := range clients {
			for _, data := range c.down.deliver(tick) {
				if err := c.cconn.DecodeServerFrame(data, &sf); err != nil {
					t.Fatal(err)
				}
				if c.hasSnap && sf.Snapshot.Tick <= c.newest {
					continue
				}
				c.newest, c.hasSnap = sf.Snapshot.Tick, true
				before := c.pred.Stats().Reconciliations
				c.pred.ReconcileSnapshot(sf.Snapshot, c.id)
				st := c.pred.Stats()
				if st.Reconciliations > before {
					// The error can only come from inputs the server never
					// applied since the previous ack (each worth at most one
					// step), plus one step where quantization tips a move
					// around a wall corner, plus quantization itself.
					lost := 0
					for s := c.prevAck + 1; s <= sf.Snapshot.AckSeq; s++ {
						if !c.applied[s] {
							lost++
						}
					}
					c.worstGap = max(c.worstGap, lost)
					if bound := float64(lost+1)*maxStep + MispredictTolerance; st.LastError > bound {
						t.Fatalf("%s: client %d error %.3f at ack %d exceeds %.3f (%d inputs lost)",
							sc.name, c.id, st.LastError, sf.Snapshot.AckSeq, bound, lost)
					}
					c.checked++
				}
				me, _ := sf.Snapshot.Player(c.id)
				if me != nil {
					c.prevAck = sf.Snapshot.AckSeq
				}
			}
			// Wander with a smoothly turning heading, aim at the centre, fire
			// on cooldown.
			c.heading += r.NormFloat64() * 0.3
			dir := arena.AngleFromRadians(c.heading).Dir()
			pos := c.pred.Position()
			in := arena.Input{Tick: c.newest, MoveX: float32(dir.X), MoveY: float32(dir.Y),
				Aim:  float32(math.Atan2(32-pos.Y, 48-pos.X)),
				Fire: uint32(tick+1)%cd == 0}
			if _, err := c.pred.Apply(in); err != nil {
				t.Fatal(err)
			}
			cf = netcode.ClientFrame{Kind: netcode.FrameInput, Inputs: c.pred.Unacked(cf.Inputs[:0], sc.redundancy), AckTick: c.newest, HasAck: c.hasSnap}
			if buf, err = netcode.AppendClientFrame(buf[:0], netcode.Binary, &cf); err != nil {
				t.Fatal(err)
			}
			c.up.send(tick, buf)
		}
	}
	if v, _ := w.DrainViolations(nil); len(v) != 0 {
		t.Fatalf("%s: honest clients flagged: %+v", sc.name, v[0])
	}
	return clients
}

func TestPredictionErrorStaysBounded(t *testing.T) {
	const ticks = 1800 // a minute at 30 Hz
	cases := []struct {
		scenario
		wantMispredictions bool
	}{
		{scenario{"ideal network", 0, 3, 0, 1}, false},
		{scenario{"jitter and 10% loss, 4 redundant inputs", 0.10, 3, 3, 4}, false},
		{scenario{"30% loss, no redundancy", 0.30, 4, 4, 1}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			clients := runScenario(t, tc.scenario, ticks)
			var mis, recs uint64
			for _, c := range clients {
				st := c.pred.Stats()
				t.Logf("client %d: %d reconciliations, %d mispredicted, mean error %.4f, max %.3f, max correction %.3f, worst loss run %d",
					c.id, st.Reconciliations, st.Mispredictions, st.MeanError(), st.MaxError, st.MaxCorrection, c.worstGap)
				// Loss and deaths skip some snapshots, but most must have
				// been measured for the bound to mean anything.
				if c.checked < ticks/4 {
					t.Fatalf("client %d: only %d reconciliations checked", c.id, c.checked)
				}
				mis += st.Mispredictions
				recs += st.Reconciliations
			}
			if tc.wantMispredictions && mis == 0 {
				t.Fatal("heavy loss produced no mispredictions: the measure is blind")
			}
			// Without lost inputs, only rare wall-corner rounding may
			// mispredict.
			if !tc.wantMispredictions && mis*100 > recs {
				t.Fatalf("%d of %d reconciliations mispredicted on a network that loses no inputs", mis, recs)
			}
		})
	}
}

func TestPredictorBasics(t *testing.T) {
	cfg := arena.Config{Obstacles: []arena.Rect{}}
	p, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := New(arena.Config{TickRate: -5}); err == nil {
		t.Fatal("invalid config accepted")
	}
	m, _ := arena.NewMovement(cfg)
	// Before any snapshot the player does not move, but inputs are kept.
	in, err := p.Apply(arena.Input{MoveX: 1})
	if err != nil || in.Seq != 1 || p.Position() != (arena.Vec2{}) {
		t.Fatalf("first Apply: %+v %v at %v", in, err, p.Position())
	}
	start := arena.Vec2{X: 10, Y: 10}
	p.Reconcile(0, start, true, 0)
	if want := m.Move(start, in); p.Position() != want {
		t.Fatalf("replay put the player at %v, want %v", p.Position(), want)
	}
	for range 5 {
		if _, err := p.Apply(arena.Input{MoveX: 0.3, MoveY: -0.8}); err != nil {
			t.Fatal(err)
		}
	}
	if got := p.Unacked(nil, 3); len(got) != 3 || got[0].Seq != 4 || got[2].Seq != 6 {
		t.Fatalf("Unacked = %+v", got)
	}
	// The server agrees exactly up to seq 3: no misprediction.
	pos := start
	for _, e := range p.pending[:3] {
		pos = m.Move(pos, e.in)
	}
	p.Reconcile(3, pos, true, 0)
	if st := p.Stats(); st.Reconciliations != 1 || st.LastError != 0 || st.Mispredictions != 0 {
		t.Fatalf("stats %+v", st)
	}
	if p.Pending() != 3 {
		t.Fatalf("%d pending after ack 3, want 3", p.Pending())
	}
	// The server puts us elsewhere after seq 5 than the two more moves we
	// predicted: a misprediction of exactly that distance.
	wander := arena.Input{MoveX: 0.3, MoveY: -0.8}
	believed := m.Move(m.Move(pos, wander), wander)
	auth := pos.Add(arena.Vec2{X: 2})
	p.Reconcile(5, auth, true, 0)
	if st := p.Stats(); st.Mispredictions != 1 || math.Abs(st.LastError-auth.Dist(believed)) > 1e-9 {
		t.Fatalf("stats %+v, want error %.4f", st, auth.Dist(believed))
	}
	// An older ack (reordered snapshot) is ignored.
	p.Reconcile(4, arena.Vec2{}, true, 0)
	if p.Pending() != 1 {
		t.Fatal("a stale ack was applied")
	}
	// A death and respawn teleport is not an error.
	p.Reconcile(6, arena.Vec2{X: 50, Y: 50}, true, 1)
	if st := p.Stats(); st.Reconciliations != 2 {
		t.Fatalf("a respawn was measured as an error: %+v", st)
	}
	// Dead players do not move.
	p.Reconcile(6, arena.Vec2{X: 50, Y: 50}, false, 2)
	p.Apply(arena.Input{MoveX: 1})
	if p.Position() != (arena.Vec2{X: 50, Y: 50}) {
		t.Fatal("a dead player moved")
	}
	p.Reset()
	if in, _ := p.Apply(arena.Input{}); in.Seq != 1 {
		t.Fatal("Reset did not restart sequencing")
	}
	for range MaxPending - 1 {
		if _, err := p.Apply(arena.Input{}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := p.Apply(arena.Input{}); !errors.Is(err, ErrPendingFull) {
		t.Fatalf("Apply past MaxPending: %v", err)
	}
}
