package ratings

import (
	"errors"
	"math"
)

// Glicko-2 constants, from Glickman's "Example of the Glicko-2 system"
// (2012), which the tests reproduce.
const (
	// DefaultRating, DefaultRD and DefaultVolatility are an unrated
	// player's values: the paper's defaults, and the cells' default rating.
	DefaultRating     = 1500.0
	DefaultRD         = 350.0
	DefaultVolatility = 0.06
	// DefaultTau constrains how fast volatility moves; the paper suggests
	// 0.3-1.2, and 0.5 is its example's value.
	DefaultTau = 0.5
	// glickoScale converts between the Glicko and Glicko-2 scales (step 2).
	glickoScale = 173.7178
	// convergence is the paper's ε for the volatility iteration (step 5).
	convergence = 1e-6
	// maxIterations bounds the volatility iteration: it converges in well
	// under 30 steps for every sane input; the bound keeps a pathological
	// one from spinning.
	maxIterations = 100
)

// Glicko is one player's Glicko-2 state on the Glicko scale.
type Glicko struct {
	Rating     float64 `json:"rating"`
	RD         float64 `json:"rd"`
	Volatility float64 `json:"volatility"`
}

// Unrated is the state of a player with no games in a mode.
func Unrated() Glicko {
	return Glicko{Rating: DefaultRating, RD: DefaultRD, Volatility: DefaultVolatility}
}

// Result is one game of a rating period: the opponent's state and the
// player's score against them (1 win, 0.5 draw, 0 loss).
type Result struct {
	Opponent Glicko
	Score    float64
}

// errNotFinite is returned for input that would make the update NaN or Inf.
var errNotFinite = errors.New("glicko-2: rating, RD, volatility and scores must be finite, RD and volatility positive, scores in [0, 1]")

func (g Glicko) valid() bool {
	finite := func(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }
	return finite(g.Rating) && finite(g.RD) && finite(g.Volatility) && g.RD > 0 && g.Volatility > 0
}

// Update returns p's state after one rating period with the given results
// (the paper's steps 1-8). tau is the system constant; zero means
// DefaultTau. The new RD never exceeds DefaultRD, so a long idle stretch
// cannot make a player less known than a newcomer.
func Update(p Glicko, results []Result, tau float64) (Glicko, error) {
	if tau == 0 {
		tau = DefaultTau
	}
	if !p.valid() || tau <= 0 || math.IsNaN(tau) {
		return p, errNotFinite
	}
	mu := (p.Rating - DefaultRating) / glickoScale
	phi := p.RD / glickoScale
	sigma := p.Volatility
	if len(results) == 0 {
		// Step 6 only: the deviation grows, rating and volatility stay.
		p.RD = math.Min(math.Sqrt(phi*phi+sigma*sigma)*glickoScale, DefaultRD)
		return p, nil
	}
	var vInv, sum float64
	for _, r := range results {
		if !r.Opponent.valid() || math.IsNaN(r.Score) || r.Score < 0 || r.Score > 1 {
			return p, errNotFinite
		}
		muJ := (r.Opponent.Rating - DefaultRating) / glickoScale
		phiJ := r.Opponent.RD / glickoScale
		g := gPhi(phiJ)
		e := expected(mu, muJ, g)
		vInv += g * g * e * (1 - e)
		sum += g * (r.Score - e)
	}
	v := 1 / vInv
	delta := v * sum
	sigma = newVolatility(delta, phi, v, sigma, tau)
	phiStar := math.Sqrt(phi*phi + sigma*sigma)
	phiNew := 1 / math.Sqrt(1/(phiStar*phiStar)+1/v)
	muNew := mu + phiNew*phiNew*sum
	out := Glicko{Rating: glickoScale*muNew + DefaultRating, RD: math.Min(glickoScale*phiNew, DefaultRD), Volatility: sigma}
	if !out.valid() {
		return p, errNotFinite
	}
	return out, nil
}

// Inflate returns g after periods rating periods without games: step 6
// applied periods times, φ² grows by σ² per period (fractions count
// pro rata), up to DefaultRD.
func Inflate(g Glicko, periods float64) Glicko {
	if !(periods > 0) || !g.valid() {
		return g
	}
	phi, sigma := g.RD/glickoScale, g.Volatility
	g.RD = math.Min(math.Sqrt(phi*phi+sigma*sigma*periods)*glickoScale, DefaultRD)
	return g
}

// gPhi is the paper's g(φ): it discounts a result by the opponent's
// uncertainty.
func gPhi(phi float64) float64 { return 1 / math.Sqrt(1+3*phi*phi/(math.Pi*math.Pi)) }

// expected is the paper's E(μ, μj, φj): the expected score against j.
func expected(mu, muJ, g float64) float64 { return 1 / (1 + math.Exp(-g*(mu-muJ))) }

// newVolatility is step 5: the Illinois variant of regula falsi on f.
func newVolatility(delta, phi, v, sigma, tau float64) float64 {
	a := math.Log(sigma * sigma)
	d2, p2 := delta*delta, phi*phi
	f := func(x float64) float64 {
		ex := math.Exp(x)
		den := p2 + v + ex
		return ex*(d2-p2-v-ex)/(2*den*den) - (x-a)/(tau*tau)
	}
	A := a
	var B float64
	if d2 > p2+v {
		B = math.Log(d2 - p2 - v)
	} else {
		k := 1.0
		for i := 0; f(a-k*tau) < 0 && i < maxIterations; i++ {
			k++
		}
		B = a - k*tau
	}
	fA, fB := f(A), f(B)
	for i := 0; math.Abs(B-A) > convergence && i < maxIterations; i++ {
		C := A + (A-B)*fA/(fB-fA)
		fC := f(C)
		if fC*fB <= 0 {
			A, fA = B, fB
		} else {
			fA /= 2
		}
		B, fB = C, fC
	}
	return math.Exp(A / 2)
}
