package arena

// ViolationKind classifies an anti-cheat violation.
type ViolationKind uint8

const (
	// ViolationSpeed: more movement than elapsed time allows — a move vector
	// longer than one, or more inputs than ticks (a sped-up client). The
	// movement is clamped. Inputs carry no positions, so teleports cannot
	// even be expressed.
	ViolationSpeed ViolationKind = iota + 1
	// ViolationFireRate: a shot inside the weapon cooldown; it is rejected.
	ViolationFireRate
	// ViolationFutureInput: an input claiming a view tick ahead of the
	// server; rejected.
	ViolationFutureInput
	// ViolationStaleInput: an input generated against a view older than
	// Config.MaxInputAge; rejected.
	ViolationStaleInput
	// ViolationInputFlood: a connection sent more frames than its InputGate
	// allows; reported by the transport through World.ReportViolation.
	ViolationInputFlood
	// ViolationMalformed: NaN, Inf or out-of-range values, or (reported by
	// the transport) an undecodable frame; rejected.
	ViolationMalformed
)

// numViolationKinds sizes per-kind arrays, indexed by the kind itself.
const numViolationKinds = int(ViolationMalformed) + 1

func (k ViolationKind) String() string {
	switch k {
	case ViolationSpeed:
		return "speed"
	case ViolationFireRate:
		return "fire_rate"
	case ViolationFutureInput:
		return "future_input"
	case ViolationStaleInput:
		return "stale_input"
	case ViolationInputFlood:
		return "input_flood"
	case ViolationMalformed:
		return "malformed"
	}
	return "unknown"
}

// Valid reports whether k is a known kind.
func (k ViolationKind) Valid() bool { return k >= ViolationSpeed && int(k) < numViolationKinds }

// Violation is one counted anti-cheat event, for telemetry.
type Violation struct {
	Player PlayerID
	Kind   ViolationKind
	Tick   uint32
	Seq    uint32 // the offending input's Seq; 0 for transport-reported kinds
}

// ViolationCounts is a player's total per kind, indexed by ViolationKind
// (index 0 is unused).
type ViolationCounts [numViolationKinds]uint32

// Total sums every kind.
func (c ViolationCounts) Total() uint32 {
	var n uint32
	for _, v := range c {
		n += v
	}
	return n
}

// maxPendingViolations bounds the undrained violation queue so a server that
// never drains (or a flood of cheaters) cannot grow memory without limit;
// 4096 is minutes of telemetry at a normal drain cadence of once per tick.
const maxPendingViolations = 4096
