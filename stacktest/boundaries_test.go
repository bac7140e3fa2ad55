package stacktest

import (
	"encoding/json"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

const module = "github.com/atollgg/atoll/"

// TestBoundaries checks the architecture's rules on imports: no file under
// gameserver/ (tests included) imports cell/ or global/ (whole-stack tests
// use this package instead), and no package built from gameserver/, cell/
// or relay/ depends on what it must not.
func TestBoundaries(t *testing.T) {
	root := ".."
	// Direct imports of every file, tests included.
	err := filepath.WalkDir(filepath.Join(root, "gameserver"), func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") {
			return err
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		for _, imp := range f.Imports {
			p := strings.Trim(imp.Path.Value, `"`)
			if strings.HasPrefix(p, module+"cell") || strings.HasPrefix(p, module+"global") {
				t.Errorf("%s imports %s", path, p)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// Transitive dependencies of the non-test packages.
	for _, rule := range []struct {
		pkgs      string
		forbidden []string
	}{
		{"./gameserver/...", []string{"cell", "global"}},
		{"./cell/...", []string{"global"}},
		{"./relay/...", []string{"cell", "global"}},
	} {
		if _, err := os.Stat(filepath.Join(root, strings.TrimSuffix(rule.pkgs, "/..."))); err != nil {
			continue // not in this tree (yet)
		}
		cmd := exec.Command("go", "list", "-deps", "-json=ImportPath,Deps", rule.pkgs)
		cmd.Dir = root
		out, err := cmd.Output()
		if err != nil {
			if ee, ok := err.(*exec.ExitError); ok {
				t.Fatalf("go list %s: %v: %s", rule.pkgs, err, ee.Stderr)
			}
			t.Fatalf("go list %s: %v", rule.pkgs, err)
		}
		dec := json.NewDecoder(strings.NewReader(string(out)))
		for dec.More() {
			var p struct {
				ImportPath string
				Deps       []string
			}
			if err := dec.Decode(&p); err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(p.ImportPath, module+strings.TrimSuffix(strings.TrimPrefix(rule.pkgs, "./"), "/...")) {
				continue
			}
			for _, d := range p.Deps {
				for _, f := range rule.forbidden {
					if d == module+f || strings.HasPrefix(d, module+f+"/") {
						t.Errorf("%s depends on %s", p.ImportPath, d)
					}
				}
			}
		}
	}
}
