package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	sigsyaml "sigs.k8s.io/yaml"

	"github.com/atollgg/atoll/deploy"
)

// committedManifests is the example topology's render, checked in.
const committedManifests = "../../deploy/k8s"

// readTree reads every file under dir keyed by slash path relative to it.
func readTree(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	err := filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		b, err := os.ReadFile(p)
		out[filepath.ToSlash(rel)] = b
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func sortedKeys(m map[string][]byte) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// TestCommittedManifestsAreCurrent: deploy/k8s is exactly what `atoll
// topology render topology/example deploy/k8s` writes today. After
// changing the topology or deploy/, re-run that command and commit.
func TestCommittedManifestsAreCurrent(t *testing.T) {
	fresh, err := RenderTopology("../../topology/example", DefaultImage, "", deploy.DefaultNamespace)
	if err != nil {
		t.Fatal(err)
	}
	committed := readTree(t, committedManifests)
	if got, want := sortedKeys(committed), sortedKeys(fresh); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("deploy/k8s holds %v, a fresh render %v: run `atoll topology render topology/example deploy/k8s`", got, want)
	}
	for name, data := range fresh {
		if !bytes.Equal(committed[name], data) {
			t.Errorf("deploy/k8s/%s differs from a fresh render: run `atoll topology render topology/example deploy/k8s`", name)
		}
	}
}

// TestRenderAddsAndRemovesRegions: a new region file yields its manifests,
// and removing it removes them (and nothing the operator wrote).
func TestRenderAddsAndRemovesRegions(t *testing.T) {
	top, out := t.TempDir(), t.TempDir()
	for _, n := range []string{"core.yaml", "eu-west.yaml", "us-east.yaml", "ap-south.yaml"} {
		b, err := os.ReadFile(filepath.Join("..", "..", "topology", "example", n))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(top, n), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	region := "version: 1\nregion:\n  id: sa-east\n  name: South America (São Paulo)\n  location: {city: São Paulo, lat: -23.55, lon: -46.63}\n" +
		"  cells:\n    - id: sa-east-1\n      api_url: https://sa-east-1.example.com\n  relays:\n    - id: sa-east-r1\n      beacon: sa-east-r1.example.com:7480\n      url: https://sa-east-r1.example.com\n"
	if err := os.WriteFile(filepath.Join(top, "sa-east.yaml"), []byte(region), 0o600); err != nil {
		t.Fatal(err)
	}
	own := filepath.Join(out, "regions", "sa-east", "kustomization.yaml")
	render := func() {
		t.Helper()
		var stdout, stderr bytes.Buffer
		if code := run(context.Background(), []string{"topology", "render", "--image", "registry.example.com/atoll:v1", top, out}, &stdout, &stderr); code != 0 {
			t.Fatalf("render: exit %d: %s", code, stderr.String())
		}
	}
	render()
	cell := filepath.Join(out, "regions", "sa-east", "cell-sa-east-1.yaml")
	b, err := os.ReadFile(cell)
	if err != nil {
		t.Fatalf("the new region's cell: %v", err)
	}
	if !bytes.Contains(b, []byte("registry.example.com/atoll:v1")) || !bytes.Contains(b, []byte("https://sa-east-1.example.com")) {
		t.Errorf("the new cell's manifest lacks its image or URL:\n%s", b)
	}
	if err := os.WriteFile(own, []byte("resources: []\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(top, "sa-east.yaml")); err != nil {
		t.Fatal(err)
	}
	render()
	if _, err := os.Stat(cell); !os.IsNotExist(err) {
		t.Errorf("the removed region's manifest is still there: %v", err)
	}
	if _, err := os.Stat(own); err != nil {
		t.Errorf("render removed a file it did not generate: %v", err)
	}
}

var atollEnvVar = regexp.MustCompile(`\bATOLL_[A-Z0-9_]+\b`)

// TestRenderedEnvAreFlags: every ATOLL_* variable the manifests set is one
// the container's subcommand reads (listed by `atoll <cmd> --help`).
func TestRenderedEnvAreFlags(t *testing.T) {
	files, err := RenderTopology("../../topology/example", DefaultImage, "", deploy.DefaultNamespace)
	if err != nil {
		t.Fatal(err)
	}
	helps := map[string]string{}
	checked := 0
	for name, data := range files {
		for _, doc := range bytes.Split(data, []byte("\n---\n")) {
			var head struct{ Kind string }
			if err := sigsyaml.Unmarshal(doc, &head); err != nil {
				t.Fatal(err)
			}
			var spec corev1.PodSpec
			switch head.Kind {
			case "Deployment":
				var d appsv1.Deployment
				if err := sigsyaml.Unmarshal(doc, &d); err != nil {
					t.Fatal(err)
				}
				spec = d.Spec.Template.Spec
			case "StatefulSet":
				var s appsv1.StatefulSet
				if err := sigsyaml.Unmarshal(doc, &s); err != nil {
					t.Fatal(err)
				}
				spec = s.Spec.Template.Spec
			default:
				continue
			}
			for _, c := range spec.Containers {
				cmd := c.Args[0]
				if _, ok := helps[cmd]; !ok {
					var stdout, stderr bytes.Buffer
					run(context.Background(), []string{cmd, "--help"}, &stdout, &stderr)
					helps[cmd] = stdout.String() + stderr.String()
				}
				known := map[string]bool{}
				for _, e := range atollEnvVar.FindAllString(helps[cmd], -1) {
					known[e] = true
				}
				if len(known) == 0 {
					t.Fatalf("atoll %s --help lists no ATOLL_ variables", cmd)
				}
				for _, e := range c.Env {
					checked++
					if !known[e.Name] {
						t.Errorf("%s: container %s sets %s, which `atoll %s` does not read", name, c.Name, e.Name, cmd)
					}
				}
			}
		}
	}
	if checked == 0 {
		t.Fatal("no environment variables checked")
	}
}
