package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestTopologyValidate(t *testing.T) {
	broken := t.TempDir()
	for _, name := range []string{"core.yaml", "eu-west.yaml"} {
		data, err := os.ReadFile(filepath.Join("..", "..", "topology", "example", name))
		if err != nil {
			t.Fatal(err)
		}
		if name == "eu-west.yaml" {
			data = bytes.Replace(data, []byte("fallback: [us-east]"), []byte("fallback: [mars]"), 1)
		}
		if err := os.WriteFile(filepath.Join(broken, name), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name       string
		args       []string
		code       int
		wantOut    string
		wantStderr string
	}{
		{"example validates", []string{"topology", "validate", "../../topology/example"}, 0, "ok (3 regions, 3 cells, 3 relays)", ""},
		{"broken folder fails with file and line", []string{"topology", "validate", broken}, 1, "", "eu-west.yaml:11:14: fallback \"mars\" is not a declared region"},
		{"missing folder", []string{"topology", "validate", filepath.Join(broken, "nope")}, 1, "", "no such file"},
		{"no subcommand", []string{"topology"}, 1, "", "usage: atoll topology validate DIR"},
		{"render without folders", []string{"topology", "render"}, 1, "", "want: render [flags] DIR OUT"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), tt.args, &stdout, &stderr)
			if code != tt.code || !strings.Contains(stdout.String(), tt.wantOut) || !strings.Contains(stderr.String(), tt.wantStderr) {
				t.Fatalf("exit %d\nstdout: %s\nstderr: %s", code, stdout.String(), stderr.String())
			}
		})
	}
}
