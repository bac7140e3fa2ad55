package fleet

import (
	"context"
	"errors"
	"net/http"
	"syscall"
	"testing"
	"time"

	"github.com/atollgg/atoll/gameserver/sdk"
	"github.com/atollgg/atoll/internal/httpx"
)

// TestAuthenticateTelemetry checks the credential game servers present on
// the cell's telemetry API: the same as the SDK port's, and only for an
// allocated server, which then gets its match.
func TestAuthenticateTelemetry(t *testing.T) {
	env := newTestEnv(t)
	cfg := env.config(t)
	cfg.Max = 1
	cfg.FailureThreshold = 1000 // frozen below; the test speaks for it
	cfg.StopGrace = 100 * time.Millisecond
	f := startFleet(t, cfg)
	srv := waitReady(t, f, 1)[0]
	if err := syscall.Kill(srv.PID, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	penv := processEnv(t, srv.PID)
	request := func(id, secret string) *http.Request {
		r, _ := http.NewRequest(http.MethodPost, "http://cell/game/telemetry", nil)
		r.Header.Set(sdk.HeaderServerID, id)
		r.Header.Set("Authorization", "Bearer "+secret)
		return r
	}
	status := func(err error) int {
		var he *httpx.Error
		if errors.As(err, &he) {
			return he.Status
		}
		return 0
	}
	id, secret := penv[sdk.EnvServerID], penv[sdk.EnvSDKSecret]
	for _, tc := range []struct {
		name, id, secret string
		want             int
	}{
		{"wrong secret", id, "wrong-secret", http.StatusUnauthorized},
		{"unknown server", "someone-else", secret, http.StatusUnauthorized},
		{"not allocated", id, secret, http.StatusConflict},
	} {
		if _, err := f.AuthenticateTelemetry(request(tc.id, tc.secret)); status(err) != tc.want {
			t.Errorf("%s: %v, want %d", tc.name, err, tc.want)
		}
	}
	if _, err := f.Allocate(context.Background(), testMatch("session-tele", "p1", "p2")); err != nil {
		t.Fatal(err)
	}
	got, err := f.AuthenticateTelemetry(request(id, secret))
	if err != nil {
		t.Fatal(err)
	}
	if got.ServerID != id || got.SessionID != "session-tele" || got.Mode != "duel" || !got.Allocation.HasPlayer("p2") || got.Allocation.HasPlayer("p3") {
		t.Fatalf("authenticated %+v", got)
	}
}
