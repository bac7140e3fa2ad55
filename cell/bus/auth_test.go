package bus_test

import (
	"context"
	"errors"
	"testing"

	"github.com/atollgg/atoll/cell/bus"
	"github.com/atollgg/atoll/internal/obs"
	"github.com/nats-io/nats.go"
)

func TestClientPortRequiresCredentials(t *testing.T) {
	const user, pass = "ops", "a-long-client-password"
	b := start(t, bus.Config{CellID: "eu-1", DataDir: t.TempDir(), ClientPort: bus.RandomPort,
		ClientUser: user, ClientPassword: pass, Log: obs.Discard()})
	for _, tc := range []struct {
		name string
		opts []nats.Option
		ok   bool
	}{
		{"anonymous", nil, false},
		{"wrong password", []nats.Option{nats.UserInfo(user, "not-the-password-at-all")}, false},
		{"in-process user from outside", []nats.Option{nats.UserInfo("atoll-cell", "guess")}, false},
		{"configured user", []nats.Option{nats.UserInfo(user, pass)}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			nc, err := nats.Connect(b.ClientURL(), append(tc.opts, nats.MaxReconnects(0))...)
			if tc.ok {
				if err != nil {
					t.Fatal(err)
				}
				nc.Close()
				return
			}
			if err == nil {
				nc.Close()
				t.Fatal("connected")
			}
			if !errors.Is(err, nats.ErrAuthorization) {
				t.Fatalf("err = %v, want an authorization violation", err)
			}
		})
	}
}

func TestClientPortBeyondLoopbackNeedsCredentials(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		cfg  bus.Config
	}{
		{"all interfaces, no credentials", bus.Config{ClientHost: "0.0.0.0"}},
		{"public address, no credentials", bus.Config{ClientHost: "192.0.2.10"}},
		{"short password", bus.Config{ClientUser: "ops", ClientPassword: "short"}},
		{"password without user", bus.Config{ClientPassword: "a-long-client-password"}},
		{"reserved user", bus.Config{ClientUser: "atoll-cell", ClientPassword: "a-long-client-password"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := tc.cfg
			cfg.CellID, cfg.DataDir, cfg.ClientPort, cfg.Log = "eu-1", t.TempDir(), bus.RandomPort, obs.Discard()
			if b, err := bus.Start(ctx, cfg); err == nil {
				_ = b.Shutdown(ctx)
				t.Fatal("started")
			}
		})
	}
}
