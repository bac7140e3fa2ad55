// Package natstest starts throwaway embedded NATS servers with JetStream for tests.
package natstest

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// readyTimeout bounds how long a fresh embedded server may take to accept
// clients; on a loaded 2-core CI box JetStream recovery of an empty store
// takes well under a second, so 10s only trips on a real failure.
const readyTimeout = 10 * time.Second

// Server is a running embedded nats-server with JetStream enabled, storing
// its data in a per-test temporary directory. It is shut down by t.Cleanup.
type Server struct {
	// NATS is the embedded server itself.
	NATS *server.Server
	// URL is the client URL (nats://127.0.0.1:port).
	URL string
	// StoreDir is the JetStream store directory.
	StoreDir string
}

// Start starts an embedded nats-server with JetStream in a temporary
// directory and returns a connected client and its JetStream context. The
// server and the connection are closed by t.Cleanup.
//
//	nc, js := natstest.Start(t)
//	kv, err := js.CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: "x"})
func Start(t testing.TB) (*nats.Conn, jetstream.JetStream) {
	t.Helper()
	s := StartServer(t)
	return s.Connect(t)
}

// StartServer starts an embedded nats-server with JetStream on a free
// loopback port, with its store in t.TempDir(), and registers its shutdown
// with t.Cleanup. Use it when a test needs several connections or the URL.
func StartServer(t testing.TB) *Server {
	t.Helper()
	dir := t.TempDir()
	opts := &server.Options{
		ServerName: "natstest",
		Host:       "127.0.0.1",
		Port:       server.RANDOM_PORT,
		JetStream:  true,
		StoreDir:   dir,
		NoLog:      true,
		NoSigs:     true,
	}
	ns, err := server.NewServer(opts)
	if err != nil {
		t.Fatalf("natstest: new server: %v", err)
	}
	go ns.Start() // owned by ns; stopped by Shutdown in Cleanup
	t.Cleanup(func() {
		ns.Shutdown()
		ns.WaitForShutdown()
	})
	if !ns.ReadyForConnections(readyTimeout) {
		t.Fatalf("natstest: server not ready after %v", readyTimeout)
	}
	return &Server{NATS: ns, URL: ns.ClientURL(), StoreDir: dir}
}

// Connect opens a new client connection to s and its JetStream context; the
// connection is drained-and-closed by t.Cleanup.
func (s *Server) Connect(t testing.TB) (*nats.Conn, jetstream.JetStream) {
	t.Helper()
	nc, err := nats.Connect(s.URL, nats.Name(t.Name()))
	if err != nil {
		t.Fatalf("natstest: connect %s: %v", s.URL, err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatalf("natstest: jetstream: %v", err)
	}
	return nc, js
}

// KeyValue creates (or opens) a KV bucket named bucket on js, for tests that
// need a jetstream.KeyValue.
func KeyValue(t testing.TB, js jetstream.JetStream, bucket string) jetstream.KeyValue {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), readyTimeout)
	defer cancel()
	kv, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: bucket})
	if err != nil {
		t.Fatalf("natstest: create kv %q: %v", bucket, err)
	}
	return kv
}
