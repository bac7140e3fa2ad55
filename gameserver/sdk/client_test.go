package sdk

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"
)

func TestConfigFromEnv(t *testing.T) {
	env := map[string]string{EnvSDKAddr: "127.0.0.1:1", EnvServerID: "srv", EnvSDKSecret: "s3cret", EnvHeartbeatPeriod: "250ms"}
	cfg, err := ConfigFromEnv(func(k string) string { return env[k] })
	if err != nil || cfg.Addr != "127.0.0.1:1" || cfg.ServerID != "srv" || cfg.Secret != "s3cret" || cfg.HeartbeatPeriod != 250*time.Millisecond {
		t.Fatalf("cfg %+v, err %v", cfg, err)
	}
	_, err = ConfigFromEnv(func(string) string { return "" })
	for _, name := range []string{EnvSDKAddr, EnvServerID, EnvSDKSecret} {
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("empty environment: error %v does not name %s", err, name)
		}
	}
	if _, err := New(Config{}); err == nil {
		t.Error("New accepted an empty config")
	}
}

// closedAddr returns a loopback address nothing listens on.
func closedAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	return addr
}

// While the cell is down every call keeps retrying, and gives up only when
// its context ends, reporting the last error.
func TestClientRetriesUntilContextEnds(t *testing.T) {
	c, err := New(Config{Addr: closedAddr(t), ServerID: "srv", Secret: "s", HeartbeatPeriod: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	_, err = c.Ready(ctx)
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "refused") {
		t.Fatalf("Ready against a down cell: %v", err)
	}
	hctx, hcancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer hcancel()
	if err := c.Heartbeat(hctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Heartbeat against a down cell: %v", err)
	}
	if _, err := c.WatchAllocation(hctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("WatchAllocation against a down cell: %v", err)
	}
}

func TestHeartbeatGivesUpOnAVanishedCell(t *testing.T) {
	c, err := New(Config{Addr: closedAddr(t), ServerID: "srv", Secret: "s", HeartbeatPeriod: 20 * time.Millisecond, GiveUpAfter: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := c.Heartbeat(ctx); !errors.Is(err, ErrCellUnreachable) {
		t.Fatalf("Heartbeat = %v, want ErrCellUnreachable", err)
	}
}
