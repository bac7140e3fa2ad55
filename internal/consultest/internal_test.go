package consultest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestModulePath(t *testing.T) {
	tests := []struct {
		name, gomod, want string
	}{
		{"plain", "module github.com/atollgg/atoll\n\ngo 1.26.7\n", "github.com/atollgg/atoll"},
		{"comment first", "// Atoll\nmodule github.com/atollgg/atoll // root\n", "github.com/atollgg/atoll"},
		{"quoted", "module \"github.com/atollgg/atoll\"\n", "github.com/atollgg/atoll"},
		{"tools module", "module github.com/atollgg/atoll/internal/tools/consul\n", "github.com/atollgg/atoll/internal/tools/consul"},
		{"no module", "go 1.26.7\n", ""},
		{"modulex is not module", "modulex foo\n", ""},
		{"empty", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := modulePath([]byte(tt.gomod)); got != tt.want {
				t.Errorf("modulePath(%q) = %q, want %q", tt.gomod, got, tt.want)
			}
		})
	}
}

func TestFindModuleRootSkipsNestedModules(t *testing.T) {
	root := t.TempDir()
	nested := filepath.Join(root, "internal", "tools", "consul")
	pkg := filepath.Join(nested, "sub")
	if err := os.MkdirAll(pkg, 0o755); err != nil {
		t.Fatal(err)
	}
	write := func(dir, module string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module "+module+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(root, rootModule)
	write(nested, rootModule+"/internal/tools/consul")

	got, ok := findModuleRoot(pkg, rootModule)
	if !ok || got != root {
		t.Fatalf("findModuleRoot(%s) = %q, %v; want %q", pkg, got, ok, root)
	}
	if got, ok := findModuleRoot(t.TempDir(), rootModule); ok {
		t.Fatalf("findModuleRoot outside any module = %q, want not found", got)
	}
}

func TestRepoRootHasBuildScript(t *testing.T) {
	root, err := repoRoot()
	if err != nil {
		t.Fatal(err)
	}
	// build runs the script through bash, so it need not be executable.
	if info, err := os.Stat(filepath.Join(root, buildScript)); err != nil || !info.Mode().IsRegular() {
		t.Fatalf("build script under %s: %v", root, err)
	}
}

func TestFreePortsDistinct(t *testing.T) {
	ports, err := freePorts(5)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[int]bool{}
	for _, p := range ports {
		if p <= 0 || p > 65535 || seen[p] {
			t.Fatalf("freePorts(5) = %v: want 5 distinct valid ports", ports)
		}
		seen[p] = true
	}
}

func TestLogTail(t *testing.T) {
	dir := t.TempDir()
	long := strings.Repeat("x", 100) + "\n"
	tests := []struct {
		name, content string
		check         func(t *testing.T, tail string)
	}{
		{"short log whole", "one\ntwo\n", func(t *testing.T, tail string) {
			if tail != "one\ntwo\n" {
				t.Errorf("tail = %q", tail)
			}
		}},
		{"empty", "", func(t *testing.T, tail string) {
			if tail != "(log empty)" {
				t.Errorf("tail = %q", tail)
			}
		}},
		{"long log cut at a line", "first line\n" + strings.Repeat(long, 2*logTailBytes/len(long)) + "last\n", func(t *testing.T, tail string) {
			if len(tail) > logTailBytes || !strings.HasSuffix(tail, "last\n") || strings.Contains(tail, "first") {
				t.Errorf("tail has %d bytes, suffix %q", len(tail), tail[max(len(tail)-10, 0):])
			}
			lines := strings.Split(strings.TrimSuffix(tail, "last\n"), "\n")
			for _, l := range lines[:len(lines)-1] {
				if l != long[:len(long)-1] {
					t.Fatalf("tail has a partial line of %d bytes", len(l))
				}
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := &process{logPath: filepath.Join(dir, tt.name+".log")}
			if err := os.WriteFile(p.logPath, []byte(tt.content), 0o644); err != nil {
				t.Fatal(err)
			}
			tt.check(t, p.logTail())
		})
	}
	missing := &process{logPath: filepath.Join(dir, "missing.log")}
	if tail := missing.logTail(); !strings.HasPrefix(tail, "(log unreadable") {
		t.Errorf("missing log tail = %q", tail)
	}
}
