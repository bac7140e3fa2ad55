package telemetry

import (
	"errors"
	"time"
)

// Rules are the anti-cheat streaming rules. They read only game servers'
// events (contract.SenderServer): nothing a client says condemns anyone.
type Rules struct {
	// Window is the tumbling window the rules count in.
	Window time.Duration
	// MaxViolations flags a player with this many anti-cheat violations
	// in one window; zero disables the rule.
	MaxViolations int64
	// FlagKicks flags a player at every kick (one flag per window).
	FlagKicks bool
	// MaxScore flags a player scoring more points than this in one window
	// (score.gained events, payload {"points": n}); zero disables the rule.
	MaxScore int64
	// SuspendAfter suspends a player with this many flagged windows
	// within SuspendWindow; zero never suspends.
	SuspendAfter int
	// SuspendWindow is how far back flags count towards suspension.
	SuspendWindow time.Duration
}

// DefaultRules: the reference game kicks after a few dozen violations in a
// match, so 20 in ten minutes is a cheater, not lag; 5,000 points in ten
// minutes is several times the best real player's rate in the arena; three
// flagged windows in a week suspend.
func DefaultRules() Rules {
	return Rules{Window: 10 * time.Minute, MaxViolations: 20, FlagKicks: true, MaxScore: 5000,
		SuspendAfter: 3, SuspendWindow: 7 * 24 * time.Hour}
}

// Rule names, stable: the audit log and metrics carry them.
const (
	RuleViolations = "violations"
	RuleKick       = "kick"
	RuleScoreRate  = "score_rate"
)

func (r Rules) validate() error {
	switch {
	case r.Window < time.Second:
		return errors.New("telemetry sink: rule window must be at least a second")
	case r.MaxViolations < 0 || r.MaxScore < 0 || r.SuspendAfter < 0:
		return errors.New("telemetry sink: rule thresholds must not be negative")
	case r.SuspendAfter > 0 && r.SuspendWindow < r.Window:
		return errors.New("telemetry sink: suspend window must be at least the rule window")
	}
	return nil
}
