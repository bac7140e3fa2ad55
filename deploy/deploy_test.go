package deploy

import (
	"bytes"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	sigsyaml "sigs.k8s.io/yaml"
)

func testWorld() World {
	return World{
		Image: "ghcr.io/atollgg/atoll:test", GlobalURL: "https://api.example.com",
		Regions: []Region{
			{ID: "eu-west", Cells: []Cell{{ID: "eu-west-1", PublicURL: "https://eu-west-1.example.com", WarmServers: 4, MaxServers: 64}},
				Relays: []Relay{{ID: "eu-west-r1", BeaconPort: 7481, Weight: 2}}},
			{ID: "us-east", Cells: []Cell{{ID: "us-east-1", PublicURL: "https://us-east-1.example.com"}},
				Relays: []Relay{{ID: "us-east-r1"}}},
		},
	}
}

// decodeStrict decodes every document of a rendered file into its
// Kubernetes API type, refusing unknown fields, and returns them.
func decodeStrict(t *testing.T, name string, data []byte) []any {
	t.Helper()
	var out []any
	for i, doc := range bytes.Split(data, []byte("\n---\n")) {
		var head struct {
			Kind       string `json:"kind"`
			APIVersion string `json:"apiVersion"`
		}
		if err := sigsyaml.Unmarshal(doc, &head); err != nil {
			t.Fatalf("%s doc %d: %v", name, i, err)
		}
		var obj any
		switch head.APIVersion + "/" + head.Kind {
		case "v1/Namespace":
			obj = &corev1.Namespace{}
		case "v1/ConfigMap":
			obj = &corev1.ConfigMap{}
		case "v1/Service":
			obj = &corev1.Service{}
		case "v1/PersistentVolumeClaim":
			obj = &corev1.PersistentVolumeClaim{}
		case "apps/v1/Deployment":
			obj = &appsv1.Deployment{}
		case "apps/v1/StatefulSet":
			obj = &appsv1.StatefulSet{}
		case "policy/v1/PodDisruptionBudget":
			obj = &policyv1.PodDisruptionBudget{}
		default:
			t.Fatalf("%s doc %d: unexpected kind %s %s", name, i, head.APIVersion, head.Kind)
		}
		if err := sigsyaml.UnmarshalStrict(doc, obj); err != nil {
			t.Fatalf("%s doc %d (%s): strict decode: %v", name, i, head.Kind, err)
		}
		out = append(out, obj)
	}
	return out
}

func podSpecs(objs []any) []corev1.PodSpec {
	var out []corev1.PodSpec
	for _, o := range objs {
		switch o := o.(type) {
		case *appsv1.Deployment:
			out = append(out, o.Spec.Template.Spec)
		case *appsv1.StatefulSet:
			out = append(out, o.Spec.Template.Spec)
		}
	}
	return out
}

func TestRenderDecodesIntoKubernetesTypes(t *testing.T) {
	files, err := Render(testWorld())
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"global/core.yaml", "regions/eu-west/cell-eu-west-1.yaml", "regions/eu-west/relay-eu-west-r1.yaml",
		"regions/us-east/cell-us-east-1.yaml", "regions/us-east/relay-us-east-r1.yaml"}
	if len(files) != len(want) {
		t.Fatalf("rendered %d files, want %d: %v", len(files), len(want), keys(files))
	}
	secrets := map[string]bool{GlobalSecret: true, CellSecret("eu-west-1"): true, CellSecret("us-east-1"): true}
	for _, name := range want {
		data, ok := files[name]
		if !ok {
			t.Fatalf("missing %s; have %v", name, keys(files))
		}
		objs := decodeStrict(t, name, data)
		for _, spec := range podSpecs(objs) {
			for _, c := range spec.Containers {
				sc := c.SecurityContext
				if sc == nil || sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
					t.Errorf("%s: container %s must run non-root on a read-only root filesystem", name, c.Name)
				}
				if c.Resources.Limits.Memory().IsZero() || c.ReadinessProbe == nil || c.LivenessProbe == nil {
					t.Errorf("%s: container %s needs memory limits and both probes", name, c.Name)
				}
				for _, e := range c.Env {
					if e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil && !secrets[e.ValueFrom.SecretKeyRef.Name] {
						t.Errorf("%s: %s refers to unknown secret %q", name, e.Name, e.ValueFrom.SecretKeyRef.Name)
					}
					if strings.Contains(strings.ToLower(e.Name), "token") && e.Value != "" {
						t.Errorf("%s: %s carries a credential in plain text", name, e.Name)
					}
				}
			}
		}
	}
	cell := decodeStrict(t, "cell", files["regions/eu-west/cell-eu-west-1.yaml"])
	sts := cell[0].(*appsv1.StatefulSet)
	if len(sts.Spec.VolumeClaimTemplates) != 1 || sts.Spec.VolumeClaimTemplates[0].Name != "data" {
		t.Errorf("cell StatefulSet needs its JetStream volume claim, got %+v", sts.Spec.VolumeClaimTemplates)
	}
	if got := envOf(sts.Spec.Template.Spec.Containers[0], "ATOLL_MAX_SERVERS"); got != "64" {
		t.Errorf("fleet cap = %q, want 64", got)
	}
	relay := decodeStrict(t, "relay", files["regions/eu-west/relay-eu-west-r1.yaml"])
	beacon := relay[1].(*corev1.Service)
	if p := beacon.Spec.Ports[0]; p.Protocol != corev1.ProtocolUDP || p.Port != 7481 {
		t.Errorf("beacon Service port = %+v, want UDP 7481", p)
	}
	if beacon.Spec.ExternalTrafficPolicy != corev1.ServiceExternalTrafficPolicyLocal {
		t.Error("beacon Service must keep client source addresses (externalTrafficPolicy Local)")
	}
}

func envOf(c corev1.Container, name string) string {
	for _, e := range c.Env {
		if e.Name == name {
			return e.Value
		}
	}
	return ""
}

func keys(m map[string][]byte) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestRenderIsDeterministic(t *testing.T) {
	a, err := Render(testWorld())
	if err != nil {
		t.Fatal(err)
	}
	b, _ := Render(testWorld())
	for k := range a {
		if !bytes.Equal(a[k], b[k]) {
			t.Fatalf("%s differs between two renders", k)
		}
	}
}

func TestValidateRefusesBadWorlds(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(*World)
		want   string
	}{
		{"no image", func(w *World) { w.Image = "" }, "image"},
		{"no global URL", func(w *World) { w.GlobalURL = "" }, "global core"},
		{"no regions", func(w *World) { w.Regions = nil }, "at least one region"},
		{"upper-case id", func(w *World) { w.Regions[0].ID = "EU" }, `region id "EU"`},
		{"duplicate id", func(w *World) { w.Regions[1].Cells[0].ID = "eu-west-1" }, "also a cell id"},
		{"region without relay", func(w *World) { w.Regions[1].Relays = nil }, "needs a cell and a relay"},
		{"cell without URL", func(w *World) { w.Regions[0].Cells[0].PublicURL = "" }, "no public URL"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := testWorld()
			tc.mutate(&w)
			_, err := Render(w)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want one containing %q", err, tc.want)
			}
		})
	}
}

// promRules is the rule-file format, decoded strictly so a typo in a field
// name fails here rather than in Prometheus at reload.
type promRules struct {
	Groups []struct {
		Name  string `yaml:"name"`
		Rules []struct {
			Alert       string            `yaml:"alert"`
			Expr        string            `yaml:"expr"`
			For         string            `yaml:"for"`
			Labels      map[string]string `yaml:"labels"`
			Annotations map[string]string `yaml:"annotations"`
		} `yaml:"rules"`
	} `yaml:"groups"`
}

func strictYAML(t *testing.T, path string, into any) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	dec := yaml.NewDecoder(f)
	dec.KnownFields(true)
	if err := dec.Decode(into); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

func TestAlertRules(t *testing.T) {
	var rules promRules
	strictYAML(t, "prometheus/alerts.yml", &rules)
	n := 0
	for _, g := range rules.Groups {
		for _, r := range g.Rules {
			n++
			if r.Alert == "" || r.Expr == "" || r.For == "" {
				t.Errorf("rule %+v needs alert, expr and for", r)
			}
			if s := r.Labels["severity"]; s != "page" && s != "ticket" {
				t.Errorf("%s: severity %q, want page or ticket", r.Alert, s)
			}
			if r.Annotations["summary"] == "" || !strings.HasPrefix(r.Annotations["runbook"], "deploy/RUNBOOK.md") {
				t.Errorf("%s: needs a summary and a runbook link", r.Alert)
			}
			if strings.Count(r.Expr, "(") != strings.Count(r.Expr, ")") {
				t.Errorf("%s: unbalanced parentheses in %q", r.Alert, r.Expr)
			}
		}
	}
	if n == 0 {
		t.Fatal("no alert rules")
	}
	runbook, err := os.ReadFile("RUNBOOK.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range rules.Groups {
		for _, r := range g.Rules {
			_, anchor, ok := strings.Cut(r.Annotations["runbook"], "#")
			if ok && !bytes.Contains(bytes.ToLower(runbook), []byte("## "+strings.ReplaceAll(anchor, "-", " "))) {
				t.Errorf("%s: runbook anchor #%s has no section in RUNBOOK.md", r.Alert, anchor)
			}
		}
	}
}

func TestScrapeConfig(t *testing.T) {
	var cfg struct {
		Global        map[string]string `yaml:"global"`
		RuleFiles     []string          `yaml:"rule_files"`
		ScrapeConfigs []struct {
			JobName             string           `yaml:"job_name"`
			KubernetesSDConfigs []map[string]any `yaml:"kubernetes_sd_configs"`
			RelabelConfigs      []map[string]any `yaml:"relabel_configs"`
		} `yaml:"scrape_configs"`
	}
	strictYAML(t, "prometheus/prometheus.yml", &cfg)
	if len(cfg.ScrapeConfigs) != 1 || cfg.ScrapeConfigs[0].JobName != "atoll" {
		t.Fatalf("want one atoll job, got %+v", cfg.ScrapeConfigs)
	}
	for _, f := range cfg.RuleFiles {
		if _, err := os.Stat("prometheus/" + f); err != nil {
			t.Errorf("rule file %s: %v", f, err)
		}
	}
}

// DashboardExprs returns every PromQL expression of the Grafana dashboard.
func dashboardExprs(t *testing.T) []string {
	data, err := os.ReadFile("grafana/atoll-overview.json")
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		UID    string `json:"uid"`
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&d); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, p := range d.Panels {
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		for _, tg := range p.Targets {
			out = append(out, tg.Expr)
		}
	}
	return out
}

func TestDashboard(t *testing.T) {
	exprs := dashboardExprs(t)
	for _, want := range []string{"atoll_fleet_players_connected", "atoll_matchmaking_queue_wait_seconds", "atoll_fleet_allocation_duration_seconds",
		"atoll_fleet_servers", "atoll_federation_consumer_lag"} {
		found := false
		for _, e := range exprs {
			found = found || strings.Contains(e, want)
		}
		if !found {
			t.Errorf("the dashboard does not chart %s", want)
		}
	}
}
