package topology

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const testCore = `version: 1
core:
  api_url: http://core.test:8080
`

const testRegion = `version: 1
region:
  id: eu
  name: Europe
  location: {city: Frankfurt, lat: 50.1, lon: 8.7}
  cells:
    - id: eu-1
      api_url: http://eu-1.test:8081
  relays:
    - id: eu-r1
      beacon: 10.0.0.1:7400
      url: http://eu-r1.test:8090
`

// writeDir writes files (name -> content) into a fresh folder.
func writeDir(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestLoadExample(t *testing.T) {
	w, err := Load("example")
	if err != nil {
		t.Fatalf("the shipped example does not validate:\n%v", err)
	}
	var ids []string
	for _, r := range w.Regions {
		ids = append(ids, r.ID)
	}
	if got := strings.Join(ids, ","); got != "ap-south,eu-west,us-east" {
		t.Fatalf("regions = %s", got)
	}
	if w.Core.APIURL == "" {
		t.Fatal("core not loaded")
	}
	eu, _ := w.Region("eu-west")
	if eu.Cells[0].Capacity != 5000 || eu.Fallback[0] != "us-east" || eu.Relays[0].Beacon != "127.0.0.1:7401" {
		t.Fatalf("eu-west = %+v", eu)
	}
	pub := w.Public()
	if len(pub.Regions) != 3 || pub.Regions[1].Relays[0].PingURL != "ws://127.0.0.1:8091/ping" {
		t.Fatalf("public = %+v", pub)
	}
}

// TestLoadProblems breaks one rule per case and checks the message names
// the file and line that break it.
func TestLoadProblems(t *testing.T) {
	region := func(old, new string) string { return strings.Replace(testRegion, old, new, 1) }
	tests := []struct {
		name  string
		files map[string]string
		want  []string // "file:line: message" fragments
	}{
		{"empty folder", map[string]string{}, []string{"no topology files"}},
		{"no core", map[string]string{"eu.yaml": testRegion}, []string{"no file declares the core"}},
		{"two cores", map[string]string{"a.yaml": testCore, "b.yaml": testCore, "eu.yaml": testRegion},
			[]string{"b.yaml:3:3: the core is declared again (first in"}},
		{"syntax error", map[string]string{"core.yaml": testCore, "eu.yaml": "version: 1\nregion:\n  id: [\n"},
			[]string{"eu.yaml:3:1: did not find expected node content"}},
		{"wrong type", map[string]string{"core.yaml": testCore, "eu.yaml": region("lat: 50.1", "lat: north")},
			[]string{"eu.yaml:5:1: cannot unmarshal"}},
		{"wrong version", map[string]string{"core.yaml": testCore, "eu.yaml": strings.Replace(testRegion, "version: 1", "version: 2", 1)},
			[]string{"eu.yaml:1:1: version must be 1"}},
		{"unknown key", map[string]string{"core.yaml": testCore, "eu.yaml": region("      api_url: http://eu-1.test:8081\n", "      api_url: http://eu-1.test:8081\n      apiurl: x\n")},
			[]string{`eu.yaml:9:7: unknown key "apiurl"`}},
		{"bad region id", map[string]string{"core.yaml": testCore, "EU.yaml": region("id: eu", "id: EU")},
			[]string{`EU.yaml:3:3: region id "EU" must be lower-case`}},
		{"file not named after region", map[string]string{"core.yaml": testCore, "europe.yaml": testRegion},
			[]string{`europe.yaml:3:3: region "eu" must be declared in a file named eu.yaml`}},
		{"no cell", map[string]string{"core.yaml": testCore, "eu.yaml": region("  cells:\n    - id: eu-1\n      api_url: http://eu-1.test:8081\n", "")},
			[]string{`eu.yaml:3:3: region "eu" has no cell`}},
		{"no relay", map[string]string{"core.yaml": testCore, "eu.yaml": testRegion[:strings.Index(testRegion, "  relays:")]},
			[]string{`eu.yaml:3:3: region "eu" has no relay`}},
		{"bad cell URL", map[string]string{"core.yaml": testCore, "eu.yaml": region("http://eu-1.test:8081", "ftp://eu-1.test")},
			[]string{`eu.yaml:8:7: api_url "ftp://eu-1.test" must use http, https`}},
		{"bad beacon", map[string]string{"core.yaml": testCore, "eu.yaml": region("10.0.0.1:7400", "10.0.0.1:70000")},
			[]string{`eu.yaml:11:7: beacon "10.0.0.1:70000" must be host:port`}},
		{"beacon without port", map[string]string{"core.yaml": testCore, "eu.yaml": region("10.0.0.1:7400", "10.0.0.1")},
			[]string{`eu.yaml:11:7: beacon "10.0.0.1" must be host:port`}},
		{"relay URL with query", map[string]string{"core.yaml": testCore, "eu.yaml": region("http://eu-r1.test:8090", "http://eu-r1.test:8090/?a=b")},
			[]string{`eu.yaml:12:7: url "http://eu-r1.test:8090/?a=b" must not carry a query`}},
		{"secret instead of reference", map[string]string{"core.yaml": testCore, "eu.yaml": region("      api_url: http://eu-1.test:8081\n", "      api_url: http://eu-1.test:8081\n      leaf_credentials: SUAKEY\n")},
			[]string{`eu.yaml:9:7: leaf_credentials must be a reference`}},
		{"bad latitude", map[string]string{"core.yaml": testCore, "eu.yaml": region("lat: 50.1", "lat: 91")},
			[]string{`eu.yaml:5:31: latitude 91 is outside`}},
		{"negative weight", map[string]string{"core.yaml": testCore, "eu.yaml": region("      url: http://eu-r1.test:8090\n", "      url: http://eu-r1.test:8090\n      weight: -1\n")},
			[]string{`eu.yaml:13:7: weight must not be negative`}},
		{"duplicate cell across files", map[string]string{"core.yaml": testCore, "eu.yaml": testRegion,
			"us.yaml": strings.NewReplacer("id: eu\n", "id: us\n", "eu-r1", "us-r1").Replace(testRegion)},
			[]string{`us.yaml:7:7: cell "eu-1" is declared again (first in`}},
		{"dangling fallback", map[string]string{"core.yaml": testCore, "eu.yaml": region("  cells:", "  fallback: [us, eu]\n  cells:")},
			[]string{`eu.yaml:6:14: fallback "us" is not a declared region`, `eu.yaml:6:18: region "eu" names itself as a fallback`}},
		{"core URL missing", map[string]string{"core.yaml": "version: 1\ncore:\n  hub_url: nats-leaf://hub.test:7422\n", "eu.yaml": testRegion},
			[]string{`core.yaml:3:3: api_url is required`}},
		{"region and core in one file", map[string]string{"eu.yaml": testRegion + "core:\n  api_url: http://core.test\n"},
			[]string{`eu.yaml:13:1: declare the core and each region in files of their own`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeDir(t, tt.files)
			w, err := Load(dir)
			if err == nil {
				t.Fatalf("Load = %+v, want problems", w)
			}
			msg := strings.ReplaceAll(err.Error(), dir+string(filepath.Separator), "")
			for _, want := range tt.want {
				if !strings.Contains(msg, want) {
					t.Errorf("problems:\n%s\nwant a line containing %q", msg, want)
				}
			}
		})
	}
}

func TestLoadIgnoresOtherFiles(t *testing.T) {
	dir := writeDir(t, map[string]string{
		"core.yaml": testCore, "eu.yaml": testRegion,
		".eu.yaml.swp": "garbage: [", "README.md": "# not topology", "eu.yaml~": "garbage: [",
	})
	if _, err := Load(dir); err != nil {
		t.Fatal(err)
	}
}
