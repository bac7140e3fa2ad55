package contract

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"time"

	"gopkg.in/yaml.v3"
)

// Leaderboard definitions, shared by the cells (regional boards) and the
// core (global boards). Both read the same YAML file:
//
//	leaderboards:
//	  - name: weekly_kills
//	    order: desc          # desc (default) or asc
//	    operator: increment  # best, set or increment
//	    scope: global        # regional (one board per cell) or global
//	    reset: weekly        # daily, weekly, monthly or never (default); UTC
//	    field: kills         # score, kills, deaths, wins or matches
//	    modes: [duel, 5v5]   # optional; empty means every mode

// Leaderboard orders.
const (
	OrderDesc = "desc"
	OrderAsc  = "asc"
)

// Leaderboard operators: how a match's value combines with the score.
const (
	OperatorBest      = "best"
	OperatorSet       = "set"
	OperatorIncrement = "increment"
)

// Leaderboard scopes.
const (
	ScopeRegional = "regional"
	ScopeGlobal   = "global"
)

// Leaderboard reset schedules; boundaries are UTC midnights, ISO weeks start
// on Monday.
const (
	ResetDaily   = "daily"
	ResetWeekly  = "weekly"
	ResetMonthly = "monthly"
	ResetNever   = "never"
)

// Fields of a match.completed player result a board can rank. Only the game
// server's results feed boards: clients never submit scores.
const (
	FieldScore  = "score"
	FieldKills  = "kills"
	FieldDeaths = "deaths"
	// FieldWins is 1 for the match's winner (placement 1), else 0.
	FieldWins = "wins"
	// FieldMatches is 1 per match played.
	FieldMatches = "matches"
)

// MaxLeaderboards bounds a definitions file: every board is held in memory
// for every retained season, so a typo that multiplies boards is refused.
const MaxLeaderboards = 256

// SeasonAll is the only season of a board that never resets.
const SeasonAll = "all"

var leaderboardName = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]{0,63}$`)

// ValidLeaderboardName reports whether name can name a board (it appears in
// URLs and SQL keys).
func ValidLeaderboardName(name string) bool { return leaderboardName.MatchString(name) }

// LeaderboardDefinition is one board's configuration.
type LeaderboardDefinition struct {
	// Name is the board's id in URLs: lower-case letters, digits, '_', '.'
	// and '-', at most 64 characters.
	Name string `yaml:"name" json:"name"`
	// Order is desc or asc; empty means desc.
	Order string `yaml:"order" json:"order"`
	// Operator is best, set or increment. Required.
	Operator string `yaml:"operator" json:"operator"`
	// Scope is regional or global. Required.
	Scope string `yaml:"scope" json:"scope"`
	// Reset is daily, weekly, monthly or never; empty means never.
	Reset string `yaml:"reset" json:"reset"`
	// Field is the match.completed result that feeds the board. Required.
	Field string `yaml:"field" json:"field"`
	// Modes limits the board to these game modes; empty means every mode.
	Modes []string `yaml:"modes,omitempty" json:"modes,omitempty"`
}

// Validate fills the defaults and reports every problem at once.
func (d *LeaderboardDefinition) Validate() error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("leaderboard %q: "+format, append([]any{d.Name}, args...)...))
	}
	if d.Order == "" {
		d.Order = OrderDesc
	}
	if d.Reset == "" {
		d.Reset = ResetNever
	}
	if !ValidLeaderboardName(d.Name) {
		bad("name must match %s", leaderboardName)
	}
	if d.Order != OrderDesc && d.Order != OrderAsc {
		bad("order %q is not desc or asc", d.Order)
	}
	if !slices.Contains([]string{OperatorBest, OperatorSet, OperatorIncrement}, d.Operator) {
		bad("operator %q is not best, set or increment", d.Operator)
	}
	if d.Scope != ScopeRegional && d.Scope != ScopeGlobal {
		bad("scope %q is not regional or global", d.Scope)
	}
	if !slices.Contains([]string{ResetDaily, ResetWeekly, ResetMonthly, ResetNever}, d.Reset) {
		bad("reset %q is not daily, weekly, monthly or never", d.Reset)
	}
	if !slices.Contains([]string{FieldScore, FieldKills, FieldDeaths, FieldWins, FieldMatches}, d.Field) {
		bad("field %q is not score, kills, deaths, wins or matches", d.Field)
	}
	for _, m := range d.Modes {
		if m == "" {
			bad("empty mode name")
		}
	}
	return errors.Join(errs...)
}

// Value is the value p's result contributes to the board in mode, and
// whether the board takes results from mode at all.
func (d *LeaderboardDefinition) Value(mode string, p PlayerResult) (int64, bool) {
	if len(d.Modes) > 0 && !slices.Contains(d.Modes, mode) {
		return 0, false
	}
	switch d.Field {
	case FieldScore:
		return int64(p.Score), true
	case FieldKills:
		return int64(p.Kills), true
	case FieldDeaths:
		return int64(p.Deaths), true
	case FieldWins:
		if p.Placement == 1 {
			return 1, true
		}
		return 0, true
	case FieldMatches:
		return 1, true
	}
	return 0, false
}

// Season is the id of the season t falls in: 2026-12-06 (daily), 2026-W49
// (ISO week, weekly), 2026-12 (monthly) or "all" (never). A match counts in
// the season its EndedAt falls in, so a replay or a late delivery after an
// outage lands in the same season as a live one.
func (d *LeaderboardDefinition) Season(t time.Time) string {
	t = t.UTC()
	switch d.Reset {
	case ResetDaily:
		return t.Format("2006-01-02")
	case ResetWeekly:
		y, w := t.ISOWeek()
		return fmt.Sprintf("%04d-W%02d", y, w)
	case ResetMonthly:
		return t.Format("2006-01")
	}
	return SeasonAll
}

// ValidSeason reports whether s is a season id of d's schedule.
func (d *LeaderboardDefinition) ValidSeason(s string) bool {
	switch d.Reset {
	case ResetDaily:
		t, err := time.Parse("2006-01-02", s)
		return err == nil && d.Season(t) == s
	case ResetWeekly:
		var y, w int
		if n, err := fmt.Sscanf(s, "%04d-W%02d", &y, &w); err != nil || n != 2 || y < 1 || w < 1 || w > 53 {
			return false
		}
		return fmt.Sprintf("%04d-W%02d", y, w) == s
	case ResetMonthly:
		t, err := time.Parse("2006-01", s)
		return err == nil && d.Season(t) == s
	}
	return s == SeasonAll
}

// LeaderboardFile is the YAML file of definitions.
type LeaderboardFile struct {
	Leaderboards []LeaderboardDefinition `yaml:"leaderboards"`
}

// ParseLeaderboards reads a definitions file strictly (unknown keys are
// errors) and validates every board; names must be unique.
func ParseLeaderboards(data []byte) ([]LeaderboardDefinition, error) {
	var f LeaderboardFile
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	// An empty file (io.EOF) means no boards.
	if err := dec.Decode(&f); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("leaderboards: %w", err)
	}
	return f.Leaderboards, ValidateLeaderboards(f.Leaderboards)
}

// ValidateLeaderboards validates defs in place (filling defaults) and
// checks that names are unique.
func ValidateLeaderboards(defs []LeaderboardDefinition) error {
	var errs []error
	if len(defs) > MaxLeaderboards {
		errs = append(errs, fmt.Errorf("leaderboards: %d boards, at most %d", len(defs), MaxLeaderboards))
	}
	seen := map[string]bool{}
	for i := range defs {
		if err := defs[i].Validate(); err != nil {
			errs = append(errs, err)
		}
		if seen[defs[i].Name] {
			errs = append(errs, fmt.Errorf("leaderboard %q: defined twice", defs[i].Name))
		}
		seen[defs[i].Name] = true
	}
	return errors.Join(errs...)
}

// LoadLeaderboards reads the definitions file at path.
func LoadLeaderboards(path string) ([]LeaderboardDefinition, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("leaderboards: %w", err)
	}
	return ParseLeaderboards(data)
}
