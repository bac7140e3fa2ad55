package cell_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/atollgg/atoll/cell"
	"github.com/atollgg/atoll/cell/matchmaker"
	"github.com/atollgg/atoll/cell/matchmaking"
)

func TestParseModes(t *testing.T) {
	modes, err := cell.ParseModes([]byte(`
modes:
  - name: duel
    teams: 2
    team_size: 1
    rating_window: 50
    rating_expansions:
      - {after: 10s, window: 100}
    max_latency_ms: 80
    queue_timeout: 2m
  - name: trio
    teams: 2
    team_size: 3
    rating_window: 100
    max_latency_ms: 90
    queue_timeout: 3m
`))
	if err != nil {
		t.Fatal(err)
	}
	if len(modes) != 2 || modes[0].Name != "duel" || time.Duration(modes[0].RatingExpansions[0].After) != 10*time.Second ||
		time.Duration(modes[1].QueueTimeout) != 3*time.Minute {
		t.Fatalf("modes %+v", modes)
	}
	for name, bad := range map[string]string{
		"empty":         ``,
		"no modes":      `modes: []`,
		"unknown field": "modes:\n  - name: duel\n    teams: 2\n    team_size: 1\n    rating_windw: 5\n    max_latency_ms: 80\n    queue_timeout: 2m\n",
		"invalid mode":  "modes:\n  - name: duel\n    teams: 1\n    team_size: 1\n    max_latency_ms: 80\n    queue_timeout: 2m\n",
		"bad duration":  "modes:\n  - name: duel\n    teams: 2\n    team_size: 1\n    max_latency_ms: 80\n    queue_timeout: soon\n",
		"duplicate":     "modes:\n  - {name: a, teams: 2, team_size: 1, max_latency_ms: 80, queue_timeout: 2m}\n  - {name: a, teams: 2, team_size: 1, max_latency_ms: 80, queue_timeout: 2m}\n",
	} {
		if _, err := cell.ParseModes([]byte(bad)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	path := filepath.Join(t.TempDir(), "modes.yaml")
	if err := os.WriteFile(path, []byte("modes:\n  - {name: solo, teams: 4, team_size: 1, max_latency_ms: 80, queue_timeout: 1m}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if m, err := cell.LoadModes(path); err != nil || m[0].Name != "solo" {
		t.Fatalf("LoadModes: %v %v", m, err)
	}
}

func TestDefaultModesShipDuel(t *testing.T) {
	for _, m := range matchmaker.DefaultModes() {
		if m.Name == "duel" && m.Teams == 2 && m.TeamSize == 1 {
			return
		}
	}
	t.Fatal("default modes lack a 1v1 duel")
}

func TestConfigValidate(t *testing.T) {
	good := cell.Config{CellID: "eu-1", Region: "eu", HTTPAddr: "127.0.0.1:0", GlobalURL: "https://core:8080", DataDir: "/tmp/x"}
	if err := good.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, u := range []string{"https://core.example", "http://127.0.0.1:8080", "http://127.3.2.1:8080", "http://[::1]:8080", "http://localhost:8080"} {
		c := good
		c.GlobalURL = u
		if err := c.Validate(); err != nil {
			t.Errorf("core URL %s refused: %v", u, err)
		}
	}
	if cell.DefaultWarmServers < 2 {
		t.Fatal("the shipped warm buffer is below two servers")
	}
	for name, mutate := range map[string]func(*cell.Config){
		"cell id with dot":  func(c *cell.Config) { c.CellID = "eu.1" },
		"no region":         func(c *cell.Config) { c.Region = "" },
		"bad addr":          func(c *cell.Config) { c.HTTPAddr = "8080" },
		"relative core URL": func(c *cell.Config) { c.GlobalURL = "core:8080" },
		"plain http core":   func(c *cell.Config) { c.GlobalURL = "http://core:8080" },
		"plain http by IP":  func(c *cell.Config) { c.GlobalURL = "http://10.0.0.7:8080" },
		"loopback-ish name": func(c *cell.Config) { c.GlobalURL = "http://localhost.evil.example:8080" },
		"no data dir":       func(c *cell.Config) { c.DataDir = "" },
		"bad consul":        func(c *cell.Config) { c.ConsulAddr = "consul" },
		"bad nats port":     func(c *cell.Config) { c.NATSPort = 70000 },
		"slow matching":     func(c *cell.Config) { c.MatchInterval = time.Second },
		"negative ws cap":   func(c *cell.Config) { c.MaxWebSockets = -1 },
		"huge ws cap":       func(c *cell.Config) { c.MaxWebSockets = matchmaking.MaxWSConnectionsLimit + 1 },
		"bad hub":           func(c *cell.Config) { c.HubURL = "::" },
		"open nats port":    func(c *cell.Config) { c.NATSPort, c.NATSHost = 4222, "0.0.0.0" },
		"half nats creds":   func(c *cell.Config) { c.NATSUser = "ops" },
		"bad modes":         func(c *cell.Config) { c.Modes = []matchmaker.Mode{{Name: "x"}} },
	} {
		c := good
		mutate(&c)
		if err := c.Validate(); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
