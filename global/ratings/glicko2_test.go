package ratings

import (
	"math"
	"testing"
)

// TestGlicko2PaperExample reproduces Glickman's worked example ("Example of
// the Glicko-2 system", 2012): a 1500/200/0.06 player beats a 1400/30
// player and loses to 1550/100 and 1700/300 players, with τ = 0.5.
func TestGlicko2PaperExample(t *testing.T) {
	p := Glicko{Rating: 1500, RD: 200, Volatility: 0.06}
	got, err := Update(p, []Result{
		{Opponent: Glicko{Rating: 1400, RD: 30, Volatility: 0.06}, Score: 1},
		{Opponent: Glicko{Rating: 1550, RD: 100, Volatility: 0.06}, Score: 0},
		{Opponent: Glicko{Rating: 1700, RD: 300, Volatility: 0.06}, Score: 0},
	}, 0.5)
	if err != nil {
		t.Fatal(err)
	}
	// The paper prints its figures rounded and computes each step from the
	// rounded previous one, so compare at its precision: μ' = -0.2069 and
	// φ' = 0.8722 on the Glicko-2 scale (4 decimals), σ' = 0.05999, and the
	// Glicko-scale r' = 1464.06 and RD' = 151.52 within that rounding.
	for _, c := range []struct {
		name      string
		got, want float64
		tol       float64
	}{
		{"mu'", (got.Rating - 1500) / 173.7178, -0.2069, 0.00005},
		{"phi'", got.RD / 173.7178, 0.8722, 0.00005},
		{"volatility", got.Volatility, 0.05999, 0.00001},
		{"rating", got.Rating, 1464.06, 0.01},
		{"rd", got.RD, 151.52, 0.01},
	} {
		if math.Abs(c.got-c.want) > c.tol {
			t.Errorf("%s = %.6f, want %.5f ± %g", c.name, c.got, c.want, c.tol)
		}
	}
}

func TestGlicko2Properties(t *testing.T) {
	base := Unrated()
	peer := Unrated()
	for _, tc := range []struct {
		name    string
		results []Result
		check   func(t *testing.T, g Glicko)
	}{
		{"win raises rating", []Result{{peer, 1}}, func(t *testing.T, g Glicko) {
			if g.Rating <= base.Rating || g.RD >= base.RD {
				t.Fatalf("%+v", g)
			}
		}},
		{"loss lowers rating", []Result{{peer, 0}}, func(t *testing.T, g Glicko) {
			if g.Rating >= base.Rating || g.RD >= base.RD {
				t.Fatalf("%+v", g)
			}
		}},
		{"draw between equals keeps rating", []Result{{peer, 0.5}}, func(t *testing.T, g Glicko) {
			if math.Abs(g.Rating-base.Rating) > 1e-9 || g.RD >= base.RD {
				t.Fatalf("%+v", g)
			}
		}},
		{"no games: only RD grows, capped", nil, func(t *testing.T, g Glicko) {
			if g.Rating != base.Rating || g.Volatility != base.Volatility || g.RD != DefaultRD {
				t.Fatalf("%+v", g)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g, err := Update(base, tc.results, 0)
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, g)
		})
	}
	// Symmetry: a win for one is the mirror of the other's loss.
	w, _ := Update(base, []Result{{peer, 1}}, 0)
	l, _ := Update(peer, []Result{{base, 0}}, 0)
	if math.Abs((w.Rating-DefaultRating)+(l.Rating-DefaultRating)) > 1e-9 {
		t.Fatalf("win %+v and loss %+v are not symmetric", w, l)
	}
	for _, bad := range []struct {
		p Glicko
		r []Result
	}{
		{Glicko{Rating: math.NaN(), RD: 100, Volatility: 0.06}, nil},
		{Glicko{Rating: 1500, RD: 0, Volatility: 0.06}, nil},
		{base, []Result{{peer, 2}}},
		{base, []Result{{Glicko{Rating: math.Inf(1), RD: 100, Volatility: 0.06}, 1}}},
	} {
		if _, err := Update(bad.p, bad.r, 0); err == nil {
			t.Errorf("Update(%+v, %+v) accepted", bad.p, bad.r)
		}
	}
}

func TestInflate(t *testing.T) {
	g := Glicko{Rating: 1700, RD: 50, Volatility: 0.06}
	for _, tc := range []struct {
		name    string
		periods float64
		want    float64
	}{
		{"no time", 0, 50},
		{"negative time", -3, 50},
		{"one period is step 6", 1, math.Sqrt(math.Pow(50/173.7178, 2)+0.06*0.06) * 173.7178},
		{"ten periods", 10, math.Sqrt(math.Pow(50/173.7178, 2)+10*0.06*0.06) * 173.7178},
		{"capped at a newcomer's", 1e6, DefaultRD},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Inflate(g, tc.periods)
			if math.Abs(got.RD-tc.want) > 1e-9 || got.Rating != g.Rating || got.Volatility != g.Volatility {
				t.Fatalf("%+v, want RD %f", got, tc.want)
			}
		})
	}
	// One idle period then no games equals the paper's no-game update.
	u, _ := Update(g, nil, 0)
	if math.Abs(Inflate(g, 1).RD-u.RD) > 1e-9 {
		t.Fatalf("Inflate(1) %f and Update(no games) %f differ", Inflate(g, 1).RD, u.RD)
	}
}
