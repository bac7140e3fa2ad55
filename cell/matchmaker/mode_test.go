package matchmaker

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

func TestDefaultModes(t *testing.T) {
	modes := DefaultModes()
	if err := ValidateModes(modes); err != nil {
		t.Fatalf("default modes invalid: %v", err)
	}
	want := map[string]struct{ teams, size, min int }{
		"duel": {2, 1, 2},
		"2v2":  {2, 2, 4},
		"5v5":  {2, 5, 10},
		"ffa8": {8, 1, 4},
	}
	for _, m := range modes {
		w, ok := want[m.Name]
		if !ok {
			continue
		}
		delete(want, m.Name)
		if m.Teams != w.teams || m.TeamSize != w.size || m.MinMatchPlayers() != w.min {
			t.Errorf("%s: teams %d × %d, min %d; want %d × %d, min %d", m.Name, m.Teams, m.TeamSize, m.MinMatchPlayers(), w.teams, w.size, w.min)
		}
	}
	for name := range want {
		t.Errorf("default modes lack %q", name)
	}
}

func TestModeValidate(t *testing.T) {
	valid := func() Mode { return testMode(t, "duel") }
	ffa := func() Mode { return testMode(t, "ffa8") }
	tests := []struct {
		name string
		edit func(m *Mode)
		base func() Mode
		want string // substring of the error
	}{
		{"no name", func(m *Mode) { m.Name = "" }, valid, "name is required"},
		{"one team", func(m *Mode) { m.Teams = 1 }, valid, "teams must be at least 2"},
		{"zero team size", func(m *Mode) { m.TeamSize = 0 }, valid, "team_size must be at least 1"},
		{"too many players", func(m *Mode) { m.Teams, m.TeamSize = 20, 6 }, valid, "above the limit of 100"},
		{"overflowing players", func(m *Mode) { m.Teams, m.TeamSize = 1<<32, 1<<32 }, valid, "above the limit of 100"},
		{"max players mismatch", func(m *Mode) { m.MaxPlayers = 3 }, valid, "max_players 3 does not match"},
		{"min players above max", func(m *Mode) { m.MinPlayers = 3 }, valid, "min_players must be between 2 and 2"},
		{"min players of one", func(m *Mode) { m.MinPlayers = 1 }, ffa, "min_players must be at least 2"},
		{"short team mode", func(m *Mode) { m.Teams, m.TeamSize, m.MinPlayers = 2, 5, 6 }, valid, "team modes need full teams"},
		{"short without wait", func(m *Mode) { m.MinPlayersAfter = 0 }, ffa, "min_players_after must be positive"},
		{"short after timeout", func(m *Mode) { m.MinPlayersAfter = m.QueueTimeout }, ffa, "must be shorter than queue_timeout"},
		{"no timeout", func(m *Mode) { m.QueueTimeout = 0; m.RatingExpansions, m.LatencyExpansions = nil, nil }, valid, "queue_timeout must be positive"},
		{"negative max tickets", func(m *Mode) { m.MaxTickets = -1 }, valid, "max_tickets must not be negative"},
		{"negative window", func(m *Mode) { m.RatingWindow = -1 }, valid, "rating_window must be a finite number"},
		{"step not later", func(m *Mode) { m.RatingExpansions[1].After = m.RatingExpansions[0].After }, valid, "rating_expansions[1]: after 10s must be later than 10s"},
		{"step narrows", func(m *Mode) { m.RatingExpansions[1].Window = 10 }, valid, "expansions only widen"},
		{"step after timeout", func(m *Mode) { m.RatingExpansions[2].After = m.QueueTimeout }, valid, "never applies"},
		{"too many steps", func(m *Mode) {
			m.RatingExpansions = nil
			for i := range MaxExpansionSteps + 1 {
				m.RatingExpansions = append(m.RatingExpansions, RatingStep{After: Duration(time.Duration(i+1) * time.Second), Window: 100})
			}
		}, valid, "33 steps, above the limit of 32"},
		{"zero latency", func(m *Mode) { m.MaxLatencyMs = 0 }, valid, "max_latency_ms must be between 1 and 10000"},
		{"latency narrows", func(m *Mode) { m.LatencyExpansions[0].MaxLatencyMs = 10 }, valid, "latency_expansions[0]: max_latency_ms 10 must be at least the previous limit 80"},
		{"latency step zero after", func(m *Mode) { m.LatencyExpansions[0].After = 0 }, valid, "latency_expansions[0]: after 0s must be later than 0s"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := tc.base()
			tc.edit(&m)
			err := m.Validate()
			if err == nil {
				t.Fatalf("Validate() = nil, want error containing %q", tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Validate() = %q, want it to contain %q", err, tc.want)
			}
			if !strings.Contains(err.Error(), "mode ") {
				t.Errorf("error %q does not name the mode", err)
			}
		})
	}
}

func TestModeValidateReportsAllProblems(t *testing.T) {
	err := Mode{Name: "broken"}.Validate()
	if err == nil {
		t.Fatal("empty mode validated")
	}
	for _, want := range []string{"teams", "team_size", "queue_timeout", "max_latency_ms"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %s", err, want)
		}
	}
}

func TestValidateModesDuplicate(t *testing.T) {
	modes := append(DefaultModes(), testMode(t, "duel"))
	err := ValidateModes(modes)
	if err == nil || !strings.Contains(err.Error(), `mode "duel" already defined at modes[0]`) {
		t.Fatalf("ValidateModes = %v, want a duplicate-name error", err)
	}
}

func TestModeDecodesFromYAMLAndJSON(t *testing.T) {
	const doc = `
name: ffa8
teams: 8
team_size: 1
min_players: 4
min_players_after: 45s
rating_window: 150
rating_expansions:
  - {after: 20s, window: 300}
  - {after: 40s, window: 600}
max_latency_ms: 100
latency_expansions:
  - {after: 30s, max_latency_ms: 150}
queue_timeout: 2m30s
`
	var fromYAML Mode
	if err := yaml.Unmarshal([]byte(doc), &fromYAML); err != nil {
		t.Fatalf("yaml: %v", err)
	}
	if want := testMode(t, "ffa8"); !reflect.DeepEqual(fromYAML, want) {
		t.Fatalf("yaml decoded %+v, want %+v", fromYAML, want)
	}
	b, err := json.Marshal(fromYAML)
	if err != nil {
		t.Fatalf("json marshal: %v", err)
	}
	if !strings.Contains(string(b), `"queue_timeout":"2m30s"`) {
		t.Errorf("json %s does not write durations as strings", b)
	}
	var fromJSON Mode
	if err := json.Unmarshal(b, &fromJSON); err != nil {
		t.Fatalf("json unmarshal: %v", err)
	}
	if !reflect.DeepEqual(fromJSON, fromYAML) {
		t.Fatalf("json round trip %+v, want %+v", fromJSON, fromYAML)
	}
	if err := yaml.Unmarshal([]byte("queue_timeout: soon"), &fromYAML); err == nil || !strings.Contains(err.Error(), "want a Go duration") {
		t.Errorf("bad duration error = %v", err)
	}
}

func TestWindowsWidenWithWait(t *testing.T) {
	m := testMode(t, "duel")
	tests := []struct {
		wait    time.Duration
		window  float64
		latency int
	}{
		{0, 50, 80},
		{9 * time.Second, 50, 80},
		{10 * time.Second, 100, 80},
		{15 * time.Second, 100, 120},
		{20 * time.Second, 200, 120},
		{30 * time.Second, 200, 180},
		{time.Hour, 400, 180},
	}
	p := newTestPool(t, m)
	mustAdd(t, p, solo("duel", "a", 1500, 10, 0))
	for _, tc := range tests {
		if got := m.RatingWindowAt(tc.wait); got != tc.window {
			t.Errorf("RatingWindowAt(%s) = %v, want %v", tc.wait, got, tc.window)
		}
		if got := m.MaxLatencyAt(tc.wait); got != tc.latency {
			t.Errorf("MaxLatencyAt(%s) = %v, want %v", tc.wait, got, tc.latency)
		}
		w, l, ok := p.Window("a", epoch.Add(tc.wait))
		if !ok || w != tc.window || l != tc.latency {
			t.Errorf("Window at +%s = %v, %v, %v; want %v, %v, true", tc.wait, w, l, ok, tc.window, tc.latency)
		}
	}
	if _, _, ok := p.Window("missing", epoch); ok {
		t.Error("Window of an unknown ticket reported ok")
	}
	if w, _, _ := p.Window("a", epoch.Add(-time.Hour)); w != 50 {
		t.Errorf("Window before enqueue = %v, want the initial 50", w)
	}
}
