package arena

import "math"

// Input is one client tick of intent. A client sends one per tick with Seq
// increasing by one each time, starting at 1 on every (re)connection.
type Input struct {
	// Seq orders inputs; the World applies each Seq at most once, in order.
	Seq uint32
	// Tick is the server tick the client was viewing when it sampled the
	// input; lag compensation rewinds shots to it.
	Tick uint32
	// MoveX and MoveY in [-1,1] steer the player; a vector longer than 1 is
	// scaled down to 1 and, beyond quantization slack, counted as a speed
	// violation. They are quantized to 1/127 steps.
	MoveX, MoveY float32
	// Aim is the facing in radians, [-2π, 2π], quantized to 1/65536 turn.
	Aim float32
	// Fire asks for a shot this tick.
	Fire bool
}

// moveQuantSteps is the int8 resolution of a movement axis: ±127 keeps the
// scale symmetric so 0 is exact.
const moveQuantSteps = 127

// moveMagnitudeTolerance is the slack on |move|² before a vector longer than
// one counts as a speed violation: quantizing a unit vector to 1/127 steps
// overshoots |move|² by at most ~1.2%.
const moveMagnitudeTolerance = 0.02

// QuantizeMove maps a movement axis to its wire value; out-of-range input
// saturates and NaN maps to 0.
func QuantizeMove(v float32) int8 {
	f := float64(v)
	switch {
	case math.IsNaN(f):
		return 0
	case f > 1:
		f = 1
	case f < -1:
		f = -1
	}
	return int8(math.Round(f * moveQuantSteps))
}

// DequantizeMove maps a wire movement value back to [-1,1]; -128, which
// QuantizeMove never produces, saturates to -1.
func DequantizeMove(q int8) float32 {
	if q < -moveQuantSteps {
		q = -moveQuantSteps
	}
	return float32(q) / moveQuantSteps
}

// Angle is a binary angle: a full turn is 65536 steps, so it wraps freely and
// travels in two bytes.
type Angle uint16

const radiansPerAngle = 2 * math.Pi / 65536

// AngleFromRadians quantizes r to the nearest Angle; NaN and Inf map to 0.
func AngleFromRadians(r float64) Angle {
	if math.IsNaN(r) || math.IsInf(r, 0) {
		return 0
	}
	turns := r / (2 * math.Pi)
	turns -= math.Floor(turns)
	return Angle(int64(math.Round(turns*65536)) & 0xffff)
}

// Radians returns a in [0, 2π).
func (a Angle) Radians() float64 { return float64(a) * radiansPerAngle }

// Dir returns the unit vector a points along.
func (a Angle) Dir() Vec2 {
	s, c := math.Sincos(a.Radians())
	return Vec2{c, s}
}

// Quantized returns in with MoveX, MoveY and Aim snapped to the values the
// wire carries, so server and client simulate identical numbers.
// Quantizing twice changes nothing.
func (in Input) Quantized() Input {
	in.MoveX = DequantizeMove(QuantizeMove(in.MoveX))
	in.MoveY = DequantizeMove(QuantizeMove(in.MoveY))
	in.Aim = float32(AngleFromRadians(float64(in.Aim)).Radians())
	return in
}

// wellFormed reports whether every float in in is finite and in range.
func (in Input) wellFormed() bool {
	axis := func(v float32) bool {
		f := float64(v)
		return !math.IsNaN(f) && f >= -1 && f <= 1
	}
	a := float64(in.Aim)
	// float32(2π) rounds up slightly; 1e-6 absorbs it.
	return axis(in.MoveX) && axis(in.MoveY) && !math.IsNaN(a) && math.Abs(a) <= 2*math.Pi+1e-6
}

// overSpeed reports whether the quantized move vector is longer than one by
// more than quantization can explain.
func (in Input) overSpeed() bool {
	x, y := float64(in.MoveX), float64(in.MoveY)
	return x*x+y*y > 1+moveMagnitudeTolerance
}

// InputOutcome says what ApplyInput did with an input.
type InputOutcome uint8

const (
	// InputApplied: the input moved/aimed the player and any shot fired.
	InputApplied InputOutcome = iota + 1
	// InputPartial: part of the input was clamped or rejected (oversized
	// move vector, movement over budget, shot over fire rate); a Violation
	// was recorded.
	InputPartial
	// InputRejected: the input was malformed, from the future or too old;
	// a Violation was recorded and nothing was applied.
	InputRejected
	// InputDuplicate: Seq was at or below the last processed one (a
	// redundant copy from a batched frame); ignored without penalty.
	InputDuplicate
)

func (o InputOutcome) String() string {
	switch o {
	case InputApplied:
		return "applied"
	case InputPartial:
		return "partial"
	case InputRejected:
		return "rejected"
	case InputDuplicate:
		return "duplicate"
	}
	return "unknown"
}
