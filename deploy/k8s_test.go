package deploy

import (
	"os"
	"path/filepath"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
)

// TestCommittedManifestsDecode: every file of deploy/k8s (the example
// topology's render, kept current by cmd/atoll's
// TestCommittedManifestsAreCurrent) decodes strictly into the Kubernetes
// API types, and the core and the relays mount the topology ConfigMap it
// holds.
func TestCommittedManifestsDecode(t *testing.T) {
	var files []string
	err := filepath.Walk("k8s", func(p string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			files = append(files, p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 3 {
		t.Fatalf("deploy/k8s holds %d files; render the example topology into it", len(files))
	}
	configMaps, mounts := 0, 0
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, obj := range decodeStrict(t, f, data) {
			switch o := obj.(type) {
			case *corev1.ConfigMap:
				if o.Name == TopologyConfigMap && len(o.Data) > 0 {
					configMaps++
				}
			case *appsv1.Deployment:
				for _, v := range o.Spec.Template.Spec.Volumes {
					if v.ConfigMap != nil && v.ConfigMap.Name == TopologyConfigMap {
						mounts++
					}
				}
			}
		}
	}
	if configMaps != 1 || mounts < 2 {
		t.Errorf("topology ConfigMaps %d (want 1), Deployments mounting it %d (want the core and every relay)", configMaps, mounts)
	}
}
