package relay

import (
	"context"
	"strings"
	"testing"
)

func TestStartRefusesBadConfig(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"empty", Config{}, "relay id is required"},
		{"no topology", Config{RelayID: "eu-west-r1", HTTPAddr: "127.0.0.1:0"}, "topology folder is required"},
		{"relay not declared", Config{RelayID: "mars-r1", TopologyDir: "../topology/example", HTTPAddr: "127.0.0.1:0"}, `relay "mars-r1" is not declared`},
		{"topology missing", Config{RelayID: "eu-west-r1", TopologyDir: t.TempDir() + "/nope", HTTPAddr: "127.0.0.1:0"}, "no such file"},
		{"bad forward key", Config{RelayID: "eu-west-r1", TopologyDir: "../topology/example", HTTPAddr: "127.0.0.1:0",
			BeaconAddr: "127.0.0.1:0", Forward: ForwardConfig{Key: []byte("short")}}, "forward key is 5 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := New(tt.cfg)
			if err == nil {
				err = r.Start(context.Background())
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
		})
	}
}
