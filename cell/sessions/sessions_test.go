package sessions_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/atollgg/atoll/cell/fleet"
	"github.com/atollgg/atoll/cell/sessions"
	"github.com/atollgg/atoll/internal/natstest"
)

func newSession() sessions.Session {
	return sessions.Session{
		ID: "s1", GameMode: "duel", Region: "eu", Status: sessions.StatusWaitingForPlayers, CreatedAt: time.Now(),
		Server:  &sessions.Server{Host: "127.0.0.1", Port: 7700},
		Players: []sessions.Player{{ID: "a", Team: 0, TicketID: "t1"}, {ID: "b", Team: 1, TicketID: "t2"}},
	}
}

func TestApply(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	results := &fleet.Results{SessionID: "s1", Mode: "duel", StartedAt: at.Add(-time.Minute), EndedAt: at}
	s := newSession()
	steps := []struct {
		ev      fleet.Event
		changed bool
		status  sessions.Status
	}{
		{fleet.Event{Kind: fleet.EventPlayerConnected, SessionID: "s1", PlayerID: "a", At: at}, true, sessions.StatusWaitingForPlayers},
		{fleet.Event{Kind: fleet.EventPlayerConnected, SessionID: "s1", PlayerID: "a", At: at}, false, sessions.StatusWaitingForPlayers},
		{fleet.Event{Kind: fleet.EventPlayerConnected, SessionID: "s1", PlayerID: "stranger", At: at}, false, sessions.StatusWaitingForPlayers},
		{fleet.Event{Kind: fleet.EventPlayerConnected, SessionID: "other", PlayerID: "b", At: at}, false, sessions.StatusWaitingForPlayers},
		{fleet.Event{Kind: fleet.EventSessionActive, SessionID: "s1", At: at}, true, sessions.StatusActive},
		{fleet.Event{Kind: fleet.EventSessionActive, SessionID: "s1", At: at}, false, sessions.StatusActive},
		{fleet.Event{Kind: fleet.EventSessionEnded, SessionID: "s1", Results: results, At: at}, true, sessions.StatusEnded},
		// Terminal is sticky: a repeat or a late failure changes nothing.
		{fleet.Event{Kind: fleet.EventSessionEnded, SessionID: "s1", Results: results, At: at}, false, sessions.StatusEnded},
		{fleet.Event{Kind: fleet.EventSessionFailed, SessionID: "s1", Reason: "late", At: at}, false, sessions.StatusEnded},
	}
	for i, st := range steps {
		if got := s.Apply(st.ev); got != st.changed || s.Status != st.status {
			t.Fatalf("step %d (%s): changed %v status %s, want %v %s", i, st.ev.Kind, got, s.Status, st.changed, st.status)
		}
	}
	if s.Results != results || s.EndTime == nil || !s.EndTime.Equal(at) || s.Players[0].Connected {
		t.Fatalf("ended session %+v", s)
	}

	f := newSession()
	if !f.Apply(fleet.Event{Kind: fleet.EventSessionFailed, SessionID: "s1", At: at}) || f.Status != sessions.StatusFailed || f.FailureReason == "" {
		t.Fatalf("failed session %+v", f)
	}
}

func TestStore(t *testing.T) {
	_, js := natstest.Start(t)
	ctx := context.Background()
	kv, err := js.CreateKeyValue(ctx, sessions.BucketConfig())
	if err != nil {
		t.Fatal(err)
	}
	st := sessions.NewStore(kv)
	s := newSession()
	if err := st.Create(ctx, s, "srv-1"); err != nil {
		t.Fatal(err)
	}
	if err := st.Create(ctx, s, "srv-1"); err == nil {
		t.Fatal("Create of an existing session succeeded")
	}
	got, srv, err := st.Get(ctx, "s1")
	if err != nil || srv != "srv-1" || got.ID != "s1" || len(got.Players) != 2 {
		t.Fatalf("Get: %+v %q %v", got, srv, err)
	}
	if _, _, err := st.Get(ctx, "missing"); !errors.Is(err, sessions.ErrNotFound) {
		t.Fatalf("Get missing: %v", err)
	}
	if _, _, err := st.Get(ctx, "bad key *"); !errors.Is(err, sessions.ErrNotFound) {
		t.Fatalf("Get with an invalid key: %v", err)
	}
	ended := time.Now().Add(-sessions.Retention - time.Minute)
	upd, changed, err := st.Update(ctx, "s1", func(s *sessions.Session, _ *string) bool {
		return s.Apply(fleet.Event{Kind: fleet.EventSessionFailed, SessionID: "s1", Reason: "crashed", At: ended})
	})
	if err != nil || !changed || upd.Status != sessions.StatusFailed {
		t.Fatalf("Update: %+v %v %v", upd, changed, err)
	}
	if _, changed, err := st.Update(ctx, "s1", func(*sessions.Session, *string) bool { return false }); err != nil || changed {
		t.Fatalf("no-op Update: %v %v", changed, err)
	}
	fresh := newSession()
	fresh.ID = "s2"
	if err := st.Create(ctx, fresh, ""); err != nil {
		t.Fatal(err)
	}
	all, err := st.List(ctx)
	if err != nil || len(all) != 2 {
		t.Fatalf("List: %d %v", len(all), err)
	}
	if n, err := st.Prune(ctx, time.Now()); err != nil || n != 1 {
		t.Fatalf("Prune: %d %v", n, err)
	}
	if all, _ := st.List(ctx); len(all) != 1 || all[0].ID != "s2" {
		t.Fatalf("after Prune: %+v", all)
	}
}
