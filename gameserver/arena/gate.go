package arena

import (
	"fmt"
	"math"
)

// InputGate is a per-connection flood check: a token bucket holding Budget
// frames that refills Budget frames per Window ticks. The transport calls
// Allow for every input frame before decoding it, drops refused frames, and
// reports them with World.ReportViolation(id, ViolationInputFlood). A gate is
// owned by one connection goroutine and is not safe for concurrent use.
type InputGate struct {
	budget, window uint64
	tokens         uint64 // in 1/window of a frame
	last           uint64
	started        bool
}

// NewInputGate allows budget frames per window ticks, with a burst of budget.
func NewInputGate(budget, window int) (*InputGate, error) {
	if budget <= 0 || window <= 0 || budget > math.MaxInt32 || window > math.MaxInt32 {
		return nil, fmt.Errorf("input gate: budget %d and window %d must be positive 32-bit values", budget, window)
	}
	return &InputGate{budget: uint64(budget), window: uint64(window)}, nil
}

// NewInputGate builds the gate cfg describes, counting windows in ticks.
func (c Config) NewInputGate() (*InputGate, error) {
	c = c.WithDefaults()
	w := int(c.DurationTicks(c.InputGateWindow))
	if w == 0 {
		w = 1
	}
	return NewInputGate(c.InputGateBudget, w)
}

// Allow charges one frame at tick now (any monotonic tick count: the
// server's tick, or wall time divided by the tick interval) and reports
// whether it is within budget.
func (g *InputGate) Allow(now uint64) bool {
	capacity := g.budget * g.window
	if !g.started {
		g.started, g.tokens, g.last = true, capacity, now
	}
	if now > g.last {
		elapsed := now - g.last
		if elapsed >= g.window {
			g.tokens = capacity
		} else {
			g.tokens = min(capacity, g.tokens+elapsed*g.budget)
		}
		g.last = now
	}
	if g.tokens < g.window {
		return false
	}
	g.tokens -= g.window
	return true
}
