package natstest_test

import (
	"context"
	"testing"
	"time"

	"github.com/atollgg/atoll/internal/natstest"
)

func TestStartKeyValueRoundTrip(t *testing.T) {
	_, js := natstest.Start(t)
	kv := natstest.KeyValue(t, js, "roundtrip")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := kv.Put(ctx, "k", []byte("v")); err != nil {
		t.Fatalf("put: %v", err)
	}
	e, err := kv.Get(ctx, "k")
	if err != nil {
		t.Fatalf("get: %v", err)
	}
	if string(e.Value()) != "v" {
		t.Fatalf("got %q, want %q", e.Value(), "v")
	}
}

func TestServerSecondConnectionSeesSameStore(t *testing.T) {
	s := natstest.StartServer(t)
	_, js1 := s.Connect(t)
	_, js2 := s.Connect(t)
	kv1 := natstest.KeyValue(t, js1, "shared")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := kv1.Put(ctx, "a", []byte("1")); err != nil {
		t.Fatalf("put: %v", err)
	}
	kv2, err := js2.KeyValue(ctx, "shared")
	if err != nil {
		t.Fatalf("open kv from second connection: %v", err)
	}
	e, err := kv2.Get(ctx, "a")
	if err != nil || string(e.Value()) != "1" {
		t.Fatalf("get from second connection: %v %v", e, err)
	}
}
