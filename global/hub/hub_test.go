package hub_test

import (
	"context"
	"testing"
	"time"

	"github.com/atollgg/atoll/contract"
	"github.com/atollgg/atoll/global/hub"
	"github.com/atollgg/atoll/global/hub/hubtest"
	"github.com/nats-io/nats.go/jetstream"
)

// storedSubjects lists the subjects in CELL_EVENTS once it holds n messages.
func waitMsgs(t *testing.T, h *hub.Hub, stream string, n uint64) []*jetstream.RawStreamMsg {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), hubtest.SourceTimeout)
	defer cancel()
	st, err := h.JS.Stream(ctx, stream)
	if err != nil {
		t.Fatal(err)
	}
	hubtest.EventuallyWithin(t, hubtest.SourceTimeout, "messages in "+stream, func() bool {
		info, err := st.Info(ctx)
		return err == nil && info.State.Msgs >= n
	})
	info, err := st.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var out []*jetstream.RawStreamMsg
	for seq := info.State.FirstSeq; seq <= info.State.LastSeq; seq++ {
		m, err := st.GetMsg(ctx, seq)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, m)
	}
	return out
}

func TestCellStreamSourcedAndForgeriesRefused(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), hubtest.Timeout)
	defer cancel()
	h := hubtest.StartHub(t, hubtest.HubConfig(t.TempDir(), "eu-1", "us-2"))
	a := hubtest.StartCell(t, hubtest.CellConfig("eu-1", t.TempDir(), h.LeafURL()))
	hubtest.WaitLeaf(t, a)

	// Forgeries, in order before the legitimate event:
	// 1. another cell's subject stored in eu-1's own (reconfigured) stream;
	info, err := a.Stream().Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	sc := info.Config
	sc.Subjects = append(sc.Subjects, contract.CellSubject("us-2", ">"))
	if _, err := a.JS.UpdateStream(ctx, sc); err != nil {
		t.Fatal(err)
	}
	if _, err := a.JS.Publish(ctx, contract.CellSubject("us-2", contract.KindMatchCompleted), []byte(`{"forged":1}`),
		jetstream.WithMsgID("forged-1")); err != nil {
		t.Fatal(err)
	}
	// 2. a plain publish of a core subject and of another cell's subject
	// over the leaf connection;
	for _, subj := range []string{contract.GlobalSubject(contract.KindPlayerErased), contract.CellSubject("us-2", "x")} {
		if err := a.Conn.Publish(subj, []byte(`{"forged":2}`)); err != nil {
			t.Fatal(err)
		}
	}
	// 3. the hub's JetStream API beyond reading GLOBAL_EVENTS.
	if _, err := a.Conn.Request(contract.JSAPIPrefix(contract.GlobalDomain)+".STREAM.DELETE."+contract.CellEventsStream, nil, hubtest.Timeout/10); err == nil {
		t.Fatal("a cell reached the hub's stream-delete API")
	}
	if err := a.Conn.Flush(); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Publish(ctx, contract.KindMatchCompleted, []byte(`{"ok":1}`), "legit-1"); err != nil {
		t.Fatal(err)
	}

	msgs := waitMsgs(t, h, contract.CellEventsStream, 1)
	ctx, cancel = context.WithTimeout(context.Background(), hubtest.Timeout)
	defer cancel()
	if len(msgs) != 1 || msgs[0].Subject != contract.CellSubject("eu-1", contract.KindMatchCompleted) ||
		msgs[0].Header.Get(jetstream.MsgIDHeader) != "legit-1" {
		for _, m := range msgs {
			t.Errorf("CELL_EVENTS holds %s %s", m.Subject, m.Data)
		}
		t.FailNow()
	}
	ginfo, err := h.JS.Stream(ctx, contract.GlobalEventsStream)
	if err != nil {
		t.Fatal(err)
	}
	if gi, err := ginfo.Info(ctx); err != nil || gi.State.Msgs != 0 {
		t.Fatalf("GLOBAL_EVENTS after a cell's forged publish: %+v %v", gi.State, err)
	}
	if _, err := h.JS.Stream(ctx, contract.CellEventsStream); err != nil {
		t.Fatalf("CELL_EVENTS gone: %v", err)
	}
}

func TestLeafWithoutValidCredentialsRefused(t *testing.T) {
	watch := hubtest.NewLogWatch()
	cfg := hubtest.HubConfig(t.TempDir(), "eu-1")
	cfg.Log = watch.Logger()
	h := hubtest.StartHub(t, cfg)
	for _, tc := range []struct {
		name, secret string
	}{
		{"no credentials", ""},
		{"wrong secret", "not-the-secret-of-eu-1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			refused := watch.Wait("authentication error")
			c := hubtest.CellConfig("eu-1", t.TempDir(), h.LeafURL())
			c.HubSecret = tc.secret
			b := hubtest.StartCell(t, c)
			select {
			case <-refused:
			case <-time.After(hubtest.Timeout):
				t.Fatal("the hub never refused the leaf connection")
			}
			if b.LeafConnected() || h.Server.NumLeafNodes() != 0 {
				t.Fatal("leaf connected without valid credentials")
			}
			_ = b.Shutdown(context.Background())
			watch.Reset()
		})
	}
}

func TestSourcesAttachWhenLeafConnects(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), hubtest.Timeout)
	defer cancel()
	h := hubtest.StartHub(t, hubtest.HubConfig(t.TempDir(), "eu-1", "ap-3"))
	sources := func() []string {
		st, err := h.JS.Stream(ctx, contract.CellEventsStream)
		if err != nil {
			t.Fatal(err)
		}
		info, err := st.Info(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, s := range info.Config.Sources {
			names = append(names, s.Name+"@"+s.External.APIPrefix+"|"+s.FilterSubject)
		}
		return names
	}
	if got := sources(); len(got) != 0 {
		t.Fatalf("sources before any leaf: %v", got)
	}
	hubtest.StartCell(t, hubtest.CellConfig("ap-3", t.TempDir(), h.LeafURL()))
	want := "CELL_ap-3@$JS.ap-3.API|cell.ap-3.>"
	hubtest.Eventually(t, "ap-3 attached", func() bool {
		got := sources()
		return len(got) == 1 && got[0] == want
	})
	if err := h.AddCell(ctx, "bad.id"); err == nil {
		t.Fatal("AddCell accepted an invalid id")
	}
	if err := h.AddCell(ctx, "sa-4"); err != nil {
		t.Fatal(err)
	}
	if got := h.Cells(); len(got) != 3 || got[2] != "sa-4" {
		t.Fatalf("cells %v", got)
	}
}
