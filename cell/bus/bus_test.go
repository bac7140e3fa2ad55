package bus_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/atollgg/atoll/cell/bus"
	"github.com/atollgg/atoll/internal/obs"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

const testTimeout = 20 * time.Second

func start(t *testing.T, cfg bus.Config) *bus.Bus {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	b, err := bus.Start(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Shutdown(context.Background()) })
	return b
}

func TestStreamDedupAndKVSurviveRestart(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	cfg := bus.Config{CellID: "eu-1", DataDir: dir, Log: obs.Discard()}
	b, err := bus.Start(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if b.ClientURL() != "" {
		t.Fatalf("no client port configured, yet ClientURL = %q", b.ClientURL())
	}
	if err := b.Ready(ctx); err != nil {
		t.Fatal(err)
	}
	for i, want := range []bool{false, true} {
		ack, err := b.Publish(ctx, "match.completed", []byte(`{"n":1}`), "m-1")
		if err != nil {
			t.Fatal(err)
		}
		if ack.Duplicate != want {
			t.Fatalf("publish %d: duplicate = %v, want %v", i, ack.Duplicate, want)
		}
	}
	if _, err := b.Publish(ctx, "x", nil, ""); err == nil {
		t.Fatal("publish without message id accepted")
	}
	kv, err := b.KeyValue(ctx, jetstream.KeyValueConfig{Bucket: "things"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kv.Put(ctx, "a", []byte("1")); err != nil {
		t.Fatal(err)
	}
	if err := b.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}

	b2 := start(t, cfg)
	info, err := b2.Stream().Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.State.Msgs != 1 || info.Config.Subjects[0] != "cell.eu-1.>" || b2.StreamName() != "CELL_eu-1" {
		t.Fatalf("stream after restart: %d msgs, subjects %v", info.State.Msgs, info.Config.Subjects)
	}
	msg, err := b2.Stream().GetMsg(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if msg.Subject != "cell.eu-1.match.completed" || msg.Header.Get(jetstream.MsgIDHeader) != "m-1" {
		t.Fatalf("stored message %s %v", msg.Subject, msg.Header)
	}
	kv2, err := b2.KeyValue(ctx, jetstream.KeyValueConfig{Bucket: "things"})
	if err != nil {
		t.Fatal(err)
	}
	e, err := kv2.Get(ctx, "a")
	if err != nil || string(e.Value()) != "1" {
		t.Fatalf("kv after restart: %v %v", e, err)
	}
	acct, err := b2.JS.AccountInfo(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if acct.Domain != "eu-1" {
		t.Fatalf("jetstream domain %q, want the cell id", acct.Domain)
	}
}

func TestClientPortAndLeafRemote(t *testing.T) {
	hubOpts := &server.Options{
		ServerName: "hub", Host: "127.0.0.1", Port: server.RANDOM_PORT, NoLog: true, NoSigs: true,
		LeafNode: server.LeafNodeOpts{Host: "127.0.0.1", Port: server.RANDOM_PORT},
	}
	hub, err := server.NewServer(hubOpts)
	if err != nil {
		t.Fatal(err)
	}
	hub.Start()
	t.Cleanup(func() { hub.Shutdown(); hub.WaitForShutdown() })
	if !hub.ReadyForConnections(testTimeout) {
		t.Fatal("hub not ready")
	}
	leafPort := hubOpts.LeafNode.Port // the server writes the bound port back

	b := start(t, bus.Config{
		CellID: "us-2", DataDir: t.TempDir(), ClientPort: bus.RandomPort, Log: obs.Discard(),
		HubURL: fmt.Sprintf("nats-leaf://127.0.0.1:%d", leafPort),
	})
	if b.ClientURL() == "" {
		t.Fatal("no client URL with a client port")
	}
	// A message published on the hub reaches a subscriber of the cell over
	// the leaf connection; the hub only forwards once the leaf is up and
	// has propagated interest, which the retry loop waits for.
	nc, err := nats.Connect(b.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	sub, err := nc.SubscribeSync("hub.hello")
	if err != nil {
		t.Fatal(err)
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	hc, err := nats.Connect(hub.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	defer hc.Close()
	deadline := time.Now().Add(testTimeout)
	for {
		if err := hc.Publish("hub.hello", []byte("hi")); err != nil {
			t.Fatal(err)
		}
		m, err := sub.NextMsg(200 * time.Millisecond)
		if err == nil {
			if string(m.Data) != "hi" {
				t.Fatalf("got %q", m.Data)
			}
			break
		}
		if !errors.Is(err, nats.ErrTimeout) || time.Now().After(deadline) {
			t.Fatalf("no message over the leaf connection: %v (leaf connected: %v)", err, b.LeafConnected())
		}
	}
	if !b.LeafConnected() {
		t.Fatal("LeafConnected false while messages flow")
	}
}

func TestStartRejectsBadConfig(t *testing.T) {
	ctx := context.Background()
	for _, cfg := range []bus.Config{
		{CellID: "", DataDir: t.TempDir()},
		{CellID: "a.b", DataDir: t.TempDir()},
		{CellID: "ok", DataDir: ""},
		{CellID: "ok", DataDir: t.TempDir(), HubURL: "::bad"},
	} {
		if b, err := bus.Start(ctx, cfg); err == nil {
			_ = b.Shutdown(ctx)
			t.Errorf("Start(%+v) succeeded", cfg)
		}
	}
}
