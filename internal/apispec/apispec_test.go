package apispec

import (
	"context"
	"testing"
)

// TestEveryDescriptionIsValid validates every openapi*.yaml in the
// repository, wherever an engineer added it.
func TestEveryDescriptionIsValid(t *testing.T) {
	root, err := ModuleRoot(".")
	if err != nil {
		t.Fatal(err)
	}
	paths, err := Find(root)
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) == 0 {
		t.Fatal("no openapi*.yaml found")
	}
	for _, p := range paths {
		t.Run(p[len(root)+1:], func(t *testing.T) {
			if _, err := Load(context.Background(), p); err != nil {
				t.Fatal(err)
			}
		})
	}
}
