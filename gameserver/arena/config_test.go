package arena

import (
	"math"
	"strings"
	"testing"
	"time"
)

func TestConfigValidate(t *testing.T) {
	cases := []struct {
		name    string
		mutate  func(*Config)
		wantErr string
	}{
		{"defaults", func(*Config) {}, ""},
		{"60 Hz", func(c *Config) { c.TickRate = 60 }, ""},
		{"open arena", func(c *Config) { c.Obstacles = []Rect{} }, ""},
		{"tick rate too high", func(c *Config) { c.TickRate = MaxTickRate + 1 }, "tick rate"},
		{"negative tick rate", func(c *Config) { c.TickRate = -1 }, "tick rate"},
		{"NaN width", func(c *Config) { c.Width = math.NaN() }, "width"},
		{"infinite height", func(c *Config) { c.Height = math.Inf(1) }, "height"},
		{"too many seats", func(c *Config) { c.MaxPlayers = MaxPlayers + 1 }, "max players"},
		{"damage above health", func(c *Config) { c.ProjectileDamage = 200 }, "projectile damage"},
		{"projectile radius above player", func(c *Config) { c.ProjectileRadius = 1 }, "projectile radius"},
		{"too fast", func(c *Config) { c.MaxSpeed = MaxMoveSpeed + 1 }, "max speed"},
		{"projectile budget", func(c *Config) { c.ProjectileLifetime = 10 * time.Second }, "projectiles per player"},
		{"inverted obstacle", func(c *Config) { c.Obstacles = []Rect{{Min: Vec2{5, 5}, Max: Vec2{4, 6}}} }, "obstacle 0"},
		{"NaN obstacle", func(c *Config) { c.Obstacles = []Rect{{Min: Vec2{math.NaN(), 5}, Max: Vec2{4, 6}}} }, "obstacle 0"},
		{"obstacle outside", func(c *Config) { c.Obstacles = []Rect{{Min: Vec2{90, 5}, Max: Vec2{100, 6}}} }, "outside"},
		{"no room", func(c *Config) { c.Obstacles = []Rect{{Min: Vec2{0, 0}, Max: Vec2{96, 64}}} }, "no room"},
		{"too many obstacles", func(c *Config) { c.Obstacles = make([]Rect, MaxObstacles+1) }, "obstacles exceed"},
		{"time limit too long", func(c *Config) { c.TimeLimit = 25 * time.Hour }, "time limit"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var c Config
			tc.mutate(&c)
			err := c.Validate()
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("Validate = %v, want error containing %q", err, tc.wantErr)
			}
			if _, err := New(c); err == nil {
				t.Fatal("New accepted an invalid config")
			}
		})
	}
}

func TestDurationTicks(t *testing.T) {
	c := Config{TickRate: 30}
	for _, tc := range []struct {
		d    time.Duration
		want uint32
	}{
		{0, 0}, {time.Second, 30}, {250 * time.Millisecond, 8}, {34 * time.Millisecond, 2}, {33333333, 1},
	} {
		if got := c.DurationTicks(tc.d); got != tc.want {
			t.Errorf("DurationTicks(%v) = %d, want %d", tc.d, got, tc.want)
		}
	}
	if got := rewindTicks(30); got != 6 {
		t.Errorf("rewindTicks(30) = %d, want 6", got)
	}
	if got := rewindTicks(128); got*uint32(time.Second/time.Duration(128)) > uint32(MaxRewind) {
		t.Errorf("rewindTicks(128) = %d exceeds MaxRewind", got)
	}
}
