package arena

import (
	"math"
	"testing"
)

func TestQuantizationIsIdempotent(t *testing.T) {
	for q := -127; q <= 127; q++ {
		f := DequantizeMove(int8(q))
		if got := QuantizeMove(f); int(got) != q {
			t.Fatalf("QuantizeMove(DequantizeMove(%d)) = %d", q, got)
		}
	}
	for a := 0; a < 65536; a++ {
		r := float32(Angle(a).Radians())
		if got := AngleFromRadians(float64(r)); int(got) != a {
			t.Fatalf("angle %d round-trips to %d", a, got)
		}
	}
	in := Input{MoveX: 0.3, MoveY: -0.71, Aim: -1.2}
	if q := in.Quantized(); q.Quantized() != q {
		t.Fatalf("Quantized is not idempotent: %+v vs %+v", q, q.Quantized())
	}
	if AngleFromRadians(-math.Pi/2) != 49152 || AngleFromRadians(2*math.Pi) != 0 {
		t.Fatal("angle wrap-around is wrong")
	}
}

func TestMovement(t *testing.T) {
	cfg := Config{Width: 20, Height: 20, Obstacles: []Rect{{Min: Vec2{10, 5}, Max: Vec2{12, 15}}}}.WithDefaults()
	m := newMovement(cfg)
	step := cfg.MaxSpeed / float64(cfg.TickRate)
	near := func(a, b Vec2) bool { return math.Abs(a.X-b.X) < 1e-9 && math.Abs(a.Y-b.Y) < 1e-9 }

	cases := []struct {
		name  string
		from  Vec2
		in    Input
		ticks int
		want  Vec2
	}{
		{"free move", Vec2{5, 5}, Input{MoveX: 1}, 3, Vec2{5 + 3*step, 5}},
		{"stops flush at wall", Vec2{9, 10}, Input{MoveX: 1}, 20, Vec2{10 - cfg.PlayerRadius, 10}},
		{"stops at world edge", Vec2{2, 2}, Input{MoveX: -1, MoveY: -1}, 40, Vec2{cfg.PlayerRadius, cfg.PlayerRadius}},
		{"slides along wall", Vec2{9.5, 10}, Input{MoveX: 1, MoveY: 1}, 3, Vec2{9.5, 10 + 3*step*math.Sqrt2/2}},
		{"diagonal is unit speed", Vec2{5, 5}, Input{MoveX: 1, MoveY: 1}, 1, Vec2{5 + step*math.Sqrt2/2, 5 + step*math.Sqrt2/2}},
		{"walks out of an overlapped wall", Vec2{10.2, 10}, Input{MoveX: -1}, 1, Vec2{10.2 - step, 10}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := tc.from
			for range tc.ticks {
				p = m.Move(p, tc.in)
			}
			// Quantized diagonals are a hair off √½; allow for it.
			if math.Abs(p.X-tc.want.X) > 0.01 || math.Abs(p.Y-tc.want.Y) > 0.01 {
				t.Fatalf("ended at %v, want %v", p, tc.want)
			}
		})
	}

	// A speed far beyond the wall's thickness still cannot tunnel through.
	fast := newMovement(Config{Width: 20, Height: 20, MaxSpeed: 200, Obstacles: []Rect{{Min: Vec2{10, 5}, Max: Vec2{10.1, 15}}}}.WithDefaults())
	if p := fast.Move(Vec2{8, 10}, Input{MoveX: 1}); !near(p, Vec2{10 - cfg.PlayerRadius, 10}) {
		t.Fatalf("tunnelled to %v", p)
	}
	// Settle undoes wire quantization that rounded a flush position into a
	// wall, landing exactly where the server had it.
	flush := Vec2{9.5, 10} // against the wall's left face
	if got := m.Settle(Vec2{9.53125, 10}); got != flush {
		t.Fatalf("Settle = %v, want %v", got, flush)
	}
	if got := m.Settle(Vec2{-1, 30}); got != (Vec2{cfg.PlayerRadius, cfg.Height - cfg.PlayerRadius}) {
		t.Fatalf("Settle out of bounds = %v", got)
	}
	if got := m.Settle(Vec2{5, 5}); got != (Vec2{5, 5}) {
		t.Fatalf("Settle moved a free position to %v", got)
	}
	if !m.Blocked(Vec2{11, 10}) || m.Blocked(Vec2{5, 5}) || !m.Blocked(Vec2{0.1, 5}) {
		t.Fatal("Blocked is wrong")
	}
}

func TestSegmentHits(t *testing.T) {
	r := Rect{Min: Vec2{2, -1}, Max: Vec2{3, 1}}
	if tt, ok := SegmentHitsRect(Vec2{0, 0}, Vec2{4, 0}, r); !ok || math.Abs(tt-0.5) > 1e-12 {
		t.Fatalf("SegmentHitsRect = %v %v, want 0.5", tt, ok)
	}
	if _, ok := SegmentHitsRect(Vec2{0, 2}, Vec2{4, 2}, r); ok {
		t.Fatal("parallel miss reported as hit")
	}
	if tt, ok := segmentHitsCircle(Vec2{0, 0}, Vec2{4, 0}, Vec2{3, 0.5}, 1); !ok || tt <= 0 || tt >= 1 {
		t.Fatalf("segmentHitsCircle = %v %v", tt, ok)
	}
	if _, ok := segmentHitsCircle(Vec2{0, 0}, Vec2{1, 0}, Vec2{3, 0}, 1); ok {
		t.Fatal("short segment reported as hit")
	}
}
