package matchmaker

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// Limits on mode configuration.
const (
	// MaxMatchPlayers is the largest lobby a mode may ask for: 100 covers
	// battle-royale lobbies, and it bounds the per-match work of candidate
	// search and team balancing inside a Pass.
	MaxMatchPlayers = 100
	// MaxExpansionSteps bounds each expansion list, because every Pass walks
	// a ticket's steps to find its current window.
	MaxExpansionSteps = 32
	// MaxLatencyLimitMs is the largest latency limit a mode may allow and the
	// largest latency a ticket may report: beyond 10 s a region is unplayable,
	// so a larger figure is a unit mistake (µs for ms), not a setting.
	MaxLatencyLimitMs = 10_000
	// DefaultMaxTickets is the queue capacity of a mode whose MaxTickets is
	// zero: 2.5 × the 100k-ticket Pass benchmark, so one Pass over a full queue
	// stays well inside its one-second budget while bounding memory.
	DefaultMaxTickets = 250_000
)

// Mode is one game mode's matchmaking configuration, loaded from the cell's
// mode file.
type Mode struct {
	// Name identifies the mode in tickets, matches and metrics.
	Name string `yaml:"name" json:"name"`
	// Teams is the number of teams in a full match; a free-for-all of N is
	// N teams of one.
	Teams int `yaml:"teams" json:"teams"`
	// TeamSize is the number of players per team; it is also the largest
	// party the mode accepts, because a party always plays on one team.
	TeamSize int `yaml:"team_size" json:"team_size"`
	// MaxPlayers is the size of a full match. Zero means Teams × TeamSize;
	// any other value must equal it (it exists so mode files can state it).
	MaxPlayers int `yaml:"max_players,omitempty" json:"max_players,omitempty"`
	// MinPlayers is the smallest match the mode starts once a ticket has
	// waited MinPlayersAfter. Zero means MaxPlayers. Only free-for-all modes
	// (TeamSize 1) may set it below MaxPlayers: team modes need full teams.
	MinPlayers int `yaml:"min_players,omitempty" json:"min_players,omitempty"`
	// MinPlayersAfter is how long an anchor ticket waits before it accepts a
	// match smaller than MaxPlayers. Required when MinPlayers < MaxPlayers,
	// ignored otherwise.
	MinPlayersAfter Duration `yaml:"min_players_after,omitempty" json:"min_players_after,omitempty"`
	// RatingWindow is how far from the match's mean rating a fresh ticket's
	// rating may be.
	RatingWindow float64 `yaml:"rating_window" json:"rating_window"`
	// RatingExpansions widen RatingWindow as a ticket waits; optional.
	RatingExpansions []RatingStep `yaml:"rating_expansions,omitempty" json:"rating_expansions,omitempty"`
	// MaxLatencyMs is the highest latency to this region a fresh ticket
	// accepts.
	MaxLatencyMs int `yaml:"max_latency_ms" json:"max_latency_ms"`
	// LatencyExpansions raise MaxLatencyMs as a ticket waits; optional.
	LatencyExpansions []LatencyStep `yaml:"latency_expansions,omitempty" json:"latency_expansions,omitempty"`
	// QueueTimeout is how long a ticket may wait before a Pass returns it as
	// timed out.
	QueueTimeout Duration `yaml:"queue_timeout" json:"queue_timeout"`
	// MaxTickets bounds the mode's queue; Add fails beyond it. Zero means
	// DefaultMaxTickets.
	MaxTickets int `yaml:"max_tickets,omitempty" json:"max_tickets,omitempty"`
}

// RatingStep sets a ticket's rating window once it has waited After.
type RatingStep struct {
	After  Duration `yaml:"after" json:"after"`
	Window float64  `yaml:"window" json:"window"`
}

// LatencyStep sets a ticket's latency limit once it has waited After.
type LatencyStep struct {
	After        Duration `yaml:"after" json:"after"`
	MaxLatencyMs int      `yaml:"max_latency_ms" json:"max_latency_ms"`
}

// DefaultModes returns the modes a cell runs when its configuration names
// none: duel (1v1), 2v2, 5v5 and ffa8 (free-for-all of 8 that starts with 4
// after a long wait). Windows start tight for fair games and widen so that
// players at the edges of the rating curve still find a match before the
// timeout.
func DefaultModes() []Mode {
	return []Mode{
		{
			Name: "duel", Teams: 2, TeamSize: 1,
			RatingWindow: 50,
			RatingExpansions: []RatingStep{
				{After: Duration(10 * time.Second), Window: 100},
				{After: Duration(20 * time.Second), Window: 200},
				{After: Duration(40 * time.Second), Window: 400},
			},
			MaxLatencyMs: 80,
			LatencyExpansions: []LatencyStep{
				{After: Duration(15 * time.Second), MaxLatencyMs: 120},
				{After: Duration(30 * time.Second), MaxLatencyMs: 180},
			},
			QueueTimeout: Duration(2 * time.Minute),
		},
		{
			Name: "2v2", Teams: 2, TeamSize: 2,
			RatingWindow: 75,
			RatingExpansions: []RatingStep{
				{After: Duration(15 * time.Second), Window: 150},
				{After: Duration(30 * time.Second), Window: 300},
				{After: Duration(60 * time.Second), Window: 500},
			},
			MaxLatencyMs: 80,
			LatencyExpansions: []LatencyStep{
				{After: Duration(20 * time.Second), MaxLatencyMs: 120},
				{After: Duration(45 * time.Second), MaxLatencyMs: 180},
			},
			QueueTimeout: Duration(3 * time.Minute),
		},
		{
			Name: "5v5", Teams: 2, TeamSize: 5,
			RatingWindow: 100,
			RatingExpansions: []RatingStep{
				{After: Duration(20 * time.Second), Window: 200},
				{After: Duration(45 * time.Second), Window: 350},
				{After: Duration(90 * time.Second), Window: 600},
			},
			MaxLatencyMs: 90,
			LatencyExpansions: []LatencyStep{
				{After: Duration(30 * time.Second), MaxLatencyMs: 130},
				{After: Duration(60 * time.Second), MaxLatencyMs: 200},
			},
			QueueTimeout: Duration(4 * time.Minute),
		},
		{
			Name: "ffa8", Teams: 8, TeamSize: 1,
			MinPlayers: 4, MinPlayersAfter: Duration(45 * time.Second),
			RatingWindow: 150,
			RatingExpansions: []RatingStep{
				{After: Duration(20 * time.Second), Window: 300},
				{After: Duration(40 * time.Second), Window: 600},
			},
			MaxLatencyMs: 100,
			LatencyExpansions: []LatencyStep{
				{After: Duration(30 * time.Second), MaxLatencyMs: 150},
			},
			QueueTimeout: Duration(150 * time.Second),
		},
	}
}

// Validate reports every problem with the mode at once, each naming the
// mode and the field as spelled in mode files.
func (m Mode) Validate() error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("mode %q: "+format, append([]any{m.Name}, args...)...))
	}
	if m.Name == "" {
		bad("name is required")
	}
	if m.Teams < 2 {
		bad("teams must be at least 2 (a free-for-all of N is N teams of 1), got %d", m.Teams)
	}
	if m.TeamSize < 1 {
		bad("team_size must be at least 1, got %d", m.TeamSize)
	}
	full := 0
	if m.Teams >= 2 && m.TeamSize >= 1 {
		// Compare before multiplying: absurd values would overflow.
		full = MaxMatchPlayers + 1
		if m.Teams <= MaxMatchPlayers && m.TeamSize <= MaxMatchPlayers {
			full = m.Teams * m.TeamSize
		}
		if full > MaxMatchPlayers {
			bad("teams %d × team_size %d is above the limit of %d players", m.Teams, m.TeamSize, MaxMatchPlayers)
			full = 0
		}
	}
	if full > 0 {
		if m.MaxPlayers != 0 && m.MaxPlayers != full {
			bad("max_players %d does not match teams %d × team_size %d = %d (leave it 0 to derive it)", m.MaxPlayers, m.Teams, m.TeamSize, full)
		}
		switch {
		case m.MinPlayers < 0 || m.MinPlayers > full:
			bad("min_players must be between 2 and %d, got %d", full, m.MinPlayers)
		case m.MinPlayers != 0 && m.MinPlayers < 2:
			bad("min_players must be at least 2, got %d", m.MinPlayers)
		case m.MinPlayers != 0 && m.MinPlayers < full && m.TeamSize > 1:
			bad("min_players %d below %d is only allowed for free-for-all modes (team_size 1): team modes need full teams", m.MinPlayers, full)
		case m.MinPlayers != 0 && m.MinPlayers < full && m.MinPlayersAfter <= 0:
			bad("min_players_after must be positive when min_players (%d) is below max_players (%d)", m.MinPlayers, full)
		case m.MinPlayers != 0 && m.MinPlayers < full && m.QueueTimeout > 0 && m.MinPlayersAfter >= m.QueueTimeout:
			bad("min_players_after %s must be shorter than queue_timeout %s or min_players never applies", m.MinPlayersAfter, m.QueueTimeout)
		}
	}
	if m.MinPlayersAfter < 0 {
		bad("min_players_after must not be negative, got %s", m.MinPlayersAfter)
	}
	if m.QueueTimeout <= 0 {
		bad("queue_timeout must be positive, got %s", m.QueueTimeout)
	}
	if m.MaxTickets < 0 {
		bad("max_tickets must not be negative (0 means %d), got %d", DefaultMaxTickets, m.MaxTickets)
	}

	if !finite(m.RatingWindow) || m.RatingWindow < 0 {
		bad("rating_window must be a finite number ≥ 0, got %v", m.RatingWindow)
	}
	if len(m.RatingExpansions) > MaxExpansionSteps {
		bad("rating_expansions has %d steps, above the limit of %d", len(m.RatingExpansions), MaxExpansionSteps)
	}
	prevAfter, prevWindow := Duration(0), m.RatingWindow
	for i, s := range m.RatingExpansions {
		switch {
		case s.After <= prevAfter:
			bad("rating_expansions[%d]: after %s must be later than %s", i, s.After, prevAfter)
		case m.QueueTimeout > 0 && s.After >= m.QueueTimeout:
			bad("rating_expansions[%d]: after %s is not before queue_timeout %s, so it never applies", i, s.After, m.QueueTimeout)
		}
		if !finite(s.Window) || s.Window < prevWindow {
			bad("rating_expansions[%d]: window %v must be finite and at least the previous window %v (expansions only widen)", i, s.Window, prevWindow)
		}
		prevAfter, prevWindow = s.After, s.Window
	}

	if m.MaxLatencyMs <= 0 || m.MaxLatencyMs > MaxLatencyLimitMs {
		bad("max_latency_ms must be between 1 and %d, got %d", MaxLatencyLimitMs, m.MaxLatencyMs)
	}
	if len(m.LatencyExpansions) > MaxExpansionSteps {
		bad("latency_expansions has %d steps, above the limit of %d", len(m.LatencyExpansions), MaxExpansionSteps)
	}
	prevAfter, prevLatency := Duration(0), m.MaxLatencyMs
	for i, s := range m.LatencyExpansions {
		switch {
		case s.After <= prevAfter:
			bad("latency_expansions[%d]: after %s must be later than %s", i, s.After, prevAfter)
		case m.QueueTimeout > 0 && s.After >= m.QueueTimeout:
			bad("latency_expansions[%d]: after %s is not before queue_timeout %s, so it never applies", i, s.After, m.QueueTimeout)
		}
		if s.MaxLatencyMs < prevLatency || s.MaxLatencyMs > MaxLatencyLimitMs {
			bad("latency_expansions[%d]: max_latency_ms %d must be at least the previous limit %d and at most %d (expansions only widen)", i, s.MaxLatencyMs, prevLatency, MaxLatencyLimitMs)
		}
		prevAfter, prevLatency = s.After, s.MaxLatencyMs
	}
	return errors.Join(errs...)
}

// ValidateModes validates every mode and checks that names are unique.
func ValidateModes(modes []Mode) error {
	var errs []error
	seen := make(map[string]int, len(modes))
	for i, m := range modes {
		if err := m.Validate(); err != nil {
			errs = append(errs, fmt.Errorf("modes[%d]: %w", i, err))
		}
		if j, dup := seen[m.Name]; dup && m.Name != "" {
			errs = append(errs, fmt.Errorf("modes[%d]: mode %q already defined at modes[%d]", i, m.Name, j))
			continue
		}
		seen[m.Name] = i
	}
	return errors.Join(errs...)
}

// FullPlayers is the number of players in a full match: Teams × TeamSize.
func (m Mode) FullPlayers() int { return m.Teams * m.TeamSize }

// MinMatchPlayers is the smallest match the mode ever starts: MinPlayers,
// or a full match when MinPlayers is zero.
func (m Mode) MinMatchPlayers() int {
	if m.MinPlayers == 0 {
		return m.FullPlayers()
	}
	return m.MinPlayers
}

// RatingWindowAt returns the rating window of a ticket that has waited wait:
// the last expansion step already reached, or RatingWindow before the first.
func (m Mode) RatingWindowAt(wait time.Duration) float64 {
	w := m.RatingWindow
	for _, s := range m.RatingExpansions {
		if time.Duration(s.After) > wait {
			break
		}
		w = s.Window
	}
	return w
}

// MaxLatencyAt returns the latency limit of a ticket that has waited wait.
func (m Mode) MaxLatencyAt(wait time.Duration) int {
	l := m.MaxLatencyMs
	for _, s := range m.LatencyExpansions {
		if time.Duration(s.After) > wait {
			break
		}
		l = s.MaxLatencyMs
	}
	return l
}

func finite(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) }
