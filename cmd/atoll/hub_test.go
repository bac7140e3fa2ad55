package main

import (
	"bytes"
	"testing"
)

func TestHubFlags(t *testing.T) {
	t.Setenv("ATOLL_DATABASE_URL", "postgres://x@127.0.0.1/db")
	t.Setenv("ATOLL_DATA_DIR", t.TempDir())
	t.Setenv("ATOLL_HUB_CELLS", "eu-1=0123456789abcdef,us-2=fedcba9876543210")
	for _, tc := range []struct {
		name string
		args []string
		ok   bool
		port int
	}{
		{"no hub", nil, true, -1},
		{"embedded", []string{"--hub-leaf-addr", "0.0.0.0:7422"}, true, 7422},
		{"bad address", []string{"--hub-leaf-addr", "7422"}, false, 0},
		{"short cell secret", []string{"--hub-leaf-addr", "0.0.0.0:7422", "--hub-cells", "eu-1=short"}, false, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, build := globalFlags("global", &bytes.Buffer{})
			if err := f.parse(tc.args); err != nil {
				t.Fatal(err)
			}
			cfg, err := build()
			if (err == nil) != tc.ok {
				t.Fatalf("err = %v", err)
			}
			if !tc.ok {
				return
			}
			if tc.port < 0 {
				if cfg.Hub != nil {
					t.Fatalf("hub configured without --hub-leaf-addr: %+v", cfg.Hub)
				}
				return
			}
			if cfg.Hub == nil || cfg.Hub.LeafPort != tc.port || cfg.Hub.LeafHost != "0.0.0.0" || len(cfg.Hub.Cells) != 2 {
				t.Fatalf("hub config %+v", cfg.Hub)
			}
		})
	}
}
