package devstack

import "testing"

func TestCoreURLForCell(t *testing.T) {
	for _, tc := range []struct{ addr, public, want string }{
		{"0.0.0.0:8080", "http://0.0.0.0:8080", "http://127.0.0.1:8080"},
		{"[::]:8080", "http://[::]:8080", "http://127.0.0.1:8080"},
		{"127.0.0.1:8080", "http://127.0.0.1:8080", "http://127.0.0.1:8080"},
		{"192.0.2.7:8080", "http://192.0.2.7:8080", "http://192.0.2.7:8080"},
	} {
		if got := coreURLForCell(tc.addr, tc.public); got != tc.want {
			t.Errorf("coreURLForCell(%q) = %q, want %q", tc.addr, got, tc.want)
		}
	}
}
