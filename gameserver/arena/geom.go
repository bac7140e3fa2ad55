package arena

import "math"

// Vec2 is a point or vector in world units.
type Vec2 struct {
	X, Y float64
}

// Add returns v+o.
func (v Vec2) Add(o Vec2) Vec2 { return Vec2{v.X + o.X, v.Y + o.Y} }

// Sub returns v-o.
func (v Vec2) Sub(o Vec2) Vec2 { return Vec2{v.X - o.X, v.Y - o.Y} }

// Scale returns v*s.
func (v Vec2) Scale(s float64) Vec2 { return Vec2{v.X * s, v.Y * s} }

// Dot returns the dot product of v and o.
func (v Vec2) Dot(o Vec2) float64 { return v.X*o.X + v.Y*o.Y }

// Len returns the length of v.
func (v Vec2) Len() float64 { return math.Sqrt(v.X*v.X + v.Y*v.Y) }

// Dist returns the distance between v and o.
func (v Vec2) Dist(o Vec2) float64 { return v.Sub(o).Len() }

// expand grows r by d on every side.
func (r Rect) expand(d float64) Rect {
	return Rect{Min: Vec2{r.Min.X - d, r.Min.Y - d}, Max: Vec2{r.Max.X + d, r.Max.Y + d}}
}

// containsStrict reports whether p lies in r's open interior; touching an
// edge is not contact, so a player can slide along a wall.
func (r Rect) containsStrict(p Vec2) bool {
	return r.Min.X < p.X && p.X < r.Max.X && r.Min.Y < p.Y && p.Y < r.Max.Y
}

// SegmentHitsRect returns the fraction t in [0,1] along p0→p1 at which the
// segment first touches r (0 when p0 is inside), and whether it does at all.
func SegmentHitsRect(p0, p1 Vec2, r Rect) (float64, bool) {
	tmin, tmax := 0.0, 1.0
	d := p1.Sub(p0)
	for axis := 0; axis < 2; axis++ {
		p, dd, lo, hi := p0.X, d.X, r.Min.X, r.Max.X
		if axis == 1 {
			p, dd, lo, hi = p0.Y, d.Y, r.Min.Y, r.Max.Y
		}
		if dd == 0 {
			if p < lo || p > hi {
				return 0, false
			}
			continue
		}
		t0, t1 := (lo-p)/dd, (hi-p)/dd
		if t0 > t1 {
			t0, t1 = t1, t0
		}
		tmin = math.Max(tmin, t0)
		tmax = math.Min(tmax, t1)
		if tmin > tmax {
			return 0, false
		}
	}
	return tmin, true
}

// segmentHitsCircle returns the fraction t in [0,1] along p0→p0+d at which
// the segment enters the circle (c, r), 0 when p0 already is inside.
func segmentHitsCircle(p0, d, c Vec2, r float64) (float64, bool) {
	f := p0.Sub(c)
	cc := f.Dot(f) - r*r
	if cc <= 0 {
		return 0, true
	}
	a := d.Dot(d)
	if a == 0 {
		return 0, false
	}
	b := 2 * f.Dot(d)
	disc := b*b - 4*a*cc
	if disc < 0 {
		return 0, false
	}
	t := (-b - math.Sqrt(disc)) / (2 * a)
	if t < 0 || t > 1 {
		return 0, false
	}
	return t, true
}
