package federation_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/atollgg/atoll/cell/bus"
	"github.com/atollgg/atoll/contract"
	"github.com/atollgg/atoll/global/federation"
	"github.com/atollgg/atoll/global/hub"
	"github.com/atollgg/atoll/global/hub/hubtest"
	"github.com/atollgg/atoll/global/schema"
	"github.com/atollgg/atoll/internal/db"
	"github.com/atollgg/atoll/internal/dbtest"
	"github.com/atollgg/atoll/internal/obs"
	"github.com/jackc/pgx/v5"
	"github.com/prometheus/client_golang/prometheus"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

// openDB is a fresh global schema plus the test handler's table, which has
// no unique key: an event applied twice shows as two rows.
func openDB(t testing.TB) *db.DB {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), hubtest.Timeout)
	defer cancel()
	d := dbtest.Open(t)
	if err := schema.Apply(ctx, d); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Pool.Exec(ctx, `CREATE TABLE fedtest_effects (cell TEXT NOT NULL, msg_id TEXT NOT NULL, body TEXT NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	return d
}

// recorder is a real handler: it writes one row per event in the
// framework's transaction. Bodies "poison" and "invalid" can never apply;
// a body "flaky-N" fails N times first.
type recorder struct {
	mu     sync.Mutex // guards following
	fails  map[string]int
	afters map[string]int // after-commit calls per msg id
}

func newRecorder() *recorder { return &recorder{fails: map[string]int{}, afters: map[string]int{}} }

func (r *recorder) after(ev federation.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.afters[ev.MsgID]++
}

// checkAfters fails unless every id had exactly one after-commit call.
func (r *recorder) checkAfters(t *testing.T, ids ...string) {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, id := range ids {
		if r.afters[id] != 1 {
			t.Errorf("after-commit of %s called %d times", id, r.afters[id])
		}
	}
	if len(r.afters) != len(ids) {
		t.Errorf("after-commit calls %v, want one each for %v", r.afters, ids)
	}
}

func (r *recorder) apply(ctx context.Context, tx pgx.Tx, ev federation.Event) error {
	body := string(ev.Data)
	switch {
	case body == "poison":
		return federation.Poison(errors.New("undecodable body"))
	case body == "invalid":
		return fmt.Errorf("validate: %w", contract.ErrInvalidEvent)
	case strings.HasPrefix(body, "flaky-"):
		r.mu.Lock()
		n := r.fails[ev.MsgID]
		r.fails[ev.MsgID] = n + 1
		r.mu.Unlock()
		if fmt.Sprintf("flaky-%d", n) != body {
			return errors.New("transient failure")
		}
	}
	_, err := tx.Exec(ctx, `INSERT INTO fedtest_effects (cell, msg_id, body) VALUES ($1, $2, $3)`, ev.CellID, ev.MsgID, body)
	return err
}

func startFederation(t *testing.T, d *db.DB, h *hub.Hub, rec *recorder) *federation.Federation {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), hubtest.Timeout)
	defer cancel()
	f, err := federation.New(federation.Config{DB: d, JS: h.JS, Registry: prometheus.NewRegistry(), Log: obs.Discard()})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.HandleWithAfterCommit("test", contract.KindMatchCompleted, rec.apply, rec.after); err != nil {
		t.Fatal(err)
	}
	if err := f.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = f.Shutdown(context.Background()) })
	return f
}

// effects counts rows per msg id.
func effects(t *testing.T, d *db.DB) map[string]int {
	t.Helper()
	rows, err := d.Pool.Query(context.Background(), `SELECT msg_id FROM fedtest_effects`)
	if err != nil {
		t.Fatal(err)
	}
	got, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	n := map[string]int{}
	for _, id := range got {
		n[id]++
	}
	return n
}

func waitEffects(t *testing.T, d *db.DB, ids ...string) {
	t.Helper()
	hubtest.EventuallyWithin(t, hubtest.SourceTimeout, fmt.Sprintf("%d effects", len(ids)), func() bool {
		n := effects(t, d)
		for _, id := range ids {
			if n[id] == 0 {
				return false
			}
		}
		return true
	})
	n := effects(t, d)
	for _, id := range ids {
		if n[id] != 1 {
			t.Fatalf("event %s applied %d times", id, n[id])
		}
	}
	if len(n) != len(ids) {
		t.Fatalf("effects %v, want exactly %v", n, ids)
	}
}

// waitDrained waits until the handler's consumer has acked everything.
func waitDrained(t *testing.T, h *hub.Hub) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), hubtest.SourceTimeout)
	defer cancel()
	hubtest.EventuallyWithin(t, hubtest.SourceTimeout, "consumer drained", func() bool {
		c, err := h.JS.Consumer(ctx, contract.CellEventsStream, federation.ConsumerName("test"))
		if err != nil {
			return false
		}
		info, err := c.Info(ctx)
		return err == nil && info.NumPending == 0 && info.NumAckPending == 0
	})
}

func publish(t *testing.T, b *bus.Bus, ids ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), hubtest.Timeout)
	defer cancel()
	for _, id := range ids {
		if _, err := b.Publish(ctx, contract.KindMatchCompleted, []byte("body-"+id), id); err != nil {
			t.Fatal(err)
		}
	}
}

// stopCtx bounds a shutdown (its flush needs a deadline).
func stopCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), hubtest.Timeout)
	t.Cleanup(cancel)
	return ctx
}

func seq(prefix string, from, to int) []string {
	var ids []string
	for i := from; i <= to; i++ {
		ids = append(ids, fmt.Sprintf("%s%d", prefix, i))
	}
	return ids
}

// TestOutageAndRestartAppliedExactlyOnce: a cell keeps publishing while the
// hub process is stopped; after it returns, and across a second restart
// and a consumer that lost its acks (redelivery of everything, as after a
// crash between commit and ack), every event is applied exactly once.
func TestOutageAndRestartAppliedExactlyOnce(t *testing.T) {
	d := openDB(t)
	hubDir := t.TempDir()
	hcfg := hubtest.HubConfig(hubDir, "eu-1", "us-2")
	h := hubtest.StartHub(t, hcfg)
	hcfg.LeafPort = h.LeafPort() // a restarted hub listens where the cells dial
	eu := hubtest.StartCell(t, hubtest.CellConfig("eu-1", t.TempDir(), h.LeafURL()))
	us := hubtest.StartCell(t, hubtest.CellConfig("us-2", t.TempDir(), h.LeafURL()))
	rec := newRecorder()
	f := startFederation(t, d, h, rec)

	publish(t, eu, seq("eu-", 1, 5)...)
	publish(t, us, seq("us-", 1, 3)...)
	want := append(seq("eu-", 1, 5), seq("us-", 1, 3)...)
	waitEffects(t, d, want...)

	// The core goes away: consumers stop, the hub's server shuts down.
	if err := f.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := h.Shutdown(stopCtx(t)); err != nil {
		t.Fatal(err)
	}
	hubtest.Eventually(t, "leafs down", func() bool { return !eu.LeafConnected() && !us.LeafConnected() })
	publish(t, eu, seq("eu-", 6, 20)...)
	publish(t, eu, "eu-3") // a cell's retry of an already-published event
	publish(t, us, seq("us-", 4, 10)...)
	info, err := eu.Stream().Info(context.Background())
	if err != nil || info.State.Msgs != 20 {
		t.Fatalf("cell stream during the outage: %+v %v", info.State, err)
	}

	// The core returns.
	h = hubtest.StartHub(t, hcfg)
	f = startFederation(t, d, h, rec)
	want = append(seq("eu-", 1, 20), seq("us-", 1, 10)...)
	waitEffects(t, d, want...)

	// Once more across a restart, with events published while it is down.
	_ = f.Shutdown(context.Background())
	_ = h.Shutdown(stopCtx(t))
	publish(t, us, seq("us-", 11, 12)...)
	h = hubtest.StartHub(t, hcfg)
	f = startFederation(t, d, h, rec)
	want = append(want, seq("us-", 11, 12)...)
	waitEffects(t, d, want...)
	waitDrained(t, h)

	// Redelivery of everything: the consumer forgets its acks.
	_ = f.Shutdown(context.Background())
	ctx, cancel := context.WithTimeout(context.Background(), hubtest.Timeout)
	defer cancel()
	if err := h.JS.DeleteConsumer(ctx, contract.CellEventsStream, federation.ConsumerName("test")); err != nil {
		t.Fatal(err)
	}
	startFederation(t, d, h, rec)
	waitDrained(t, h)
	waitEffects(t, d, want...)
	rec.checkAfters(t, want...)
}

// TestPoisonDeadLetteredAndTheRestApplied: poison and invalid events go to
// DEAD_LETTERS with the reason, a transiently failing one is retried, and
// the events after them are still applied.
func TestPoisonDeadLetteredAndTheRestApplied(t *testing.T) {
	d := openDB(t)
	h := hubtest.StartHub(t, hubtest.HubConfig(t.TempDir(), "eu-1"))
	eu := hubtest.StartCell(t, hubtest.CellConfig("eu-1", t.TempDir(), h.LeafURL()))
	rec := newRecorder()
	startFederation(t, d, h, rec)
	ctx, cancel := context.WithTimeout(context.Background(), hubtest.Timeout)
	defer cancel()
	for _, e := range []struct{ id, body string }{
		{"a", "ok"}, {"b", "poison"}, {"c", "invalid"}, {"d", "flaky-2"}, {"e", "ok"},
	} {
		if _, err := eu.Publish(ctx, contract.KindMatchCompleted, []byte(e.body), e.id); err != nil {
			t.Fatal(err)
		}
	}
	waitEffects(t, d, "a", "d", "e")
	waitDrained(t, h)
	dl, err := h.JS.Stream(ctx, hub.DeadLetterStream)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for s := uint64(1); s <= 2; s++ {
		m, err := dl.GetMsg(ctx, s)
		if err != nil {
			t.Fatalf("dead letter %d: %v", s, err)
		}
		got = append(got, m.Header.Get(federation.HeaderMsgID)+"|"+m.Header.Get(federation.HeaderSubject)+"|"+
			m.Header.Get(federation.HeaderReason)+"|"+string(m.Data))
	}
	want := []string{
		"b|cell.eu-1.match.completed|undecodable body|poison",
		"c|cell.eu-1.match.completed|validate: invalid event|invalid",
	}
	if got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("dead letters\n%v\nwant\n%v", got, want)
	}
	rec.checkAfters(t, "a", "d", "e")
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if rec.fails["d"] != 3 {
		t.Fatalf("flaky event attempted %d times, want 3", rec.fails["d"])
	}
}

// TestOutboxReachesCells: an erasure enqueued in a transaction reaches a
// cell's applier through GLOBAL_EVENTS and the cell's GLOBAL_IN, including
// one enqueued while the cell was down.
func TestOutboxReachesCells(t *testing.T) {
	d := openDB(t)
	h := hubtest.StartHub(t, hubtest.HubConfig(t.TempDir(), "eu-1"))
	cellDir := t.TempDir()
	ccfg := hubtest.CellConfig("eu-1", cellDir, h.LeafURL())
	eu := hubtest.StartCell(t, ccfg)
	f := startFederation(t, d, h, newRecorder())

	erase := func(player string) {
		t.Helper()
		body := []byte(`{"player_id":"` + player + `"}`)
		ctx := context.Background()
		if err := d.RunTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
			return federation.Enqueue(ctx, tx, contract.GlobalSubject(contract.KindPlayerErased), contract.PlayerErasedMsgID(player), body)
		}); err != nil {
			t.Fatal(err)
		}
		f.Kick()
	}
	var mu sync.Mutex // guards erased
	erased := map[string]int{}
	consume := func(b *bus.Bus) context.CancelFunc {
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() {
			defer close(done)
			_ = b.ConsumeGlobal(ctx, "erasure", contract.KindPlayerErased, func(_ context.Context, data []byte) error {
				mu.Lock()
				defer mu.Unlock()
				erased[strings.TrimSuffix(strings.TrimPrefix(string(data), `{"player_id":"`), `"}`)]++
				return nil
			})
		}()
		return func() { cancel(); <-done }
	}
	count := func(p string) int { mu.Lock(); defer mu.Unlock(); return erased[p] }

	stop := consume(eu)
	erase("p1")
	hubtest.EventuallyWithin(t, hubtest.SourceTimeout, "p1 erased in the cell", func() bool { return count("p1") == 1 })
	stop()
	if err := eu.Shutdown(stopCtx(t)); err != nil {
		t.Fatal(err)
	}

	erase("p2")
	// The row leaves the outbox once GLOBAL_EVENTS has it.
	hubtest.Eventually(t, "outbox drained", func() bool {
		var n int
		return d.Pool.QueryRow(context.Background(), `SELECT count(*) FROM federation_outbox`).Scan(&n) == nil && n == 0
	})
	eu = hubtest.StartCell(t, ccfg)
	stop = consume(eu)
	defer stop()
	hubtest.EventuallyWithin(t, hubtest.SourceTimeout, "p2 erased in the cell", func() bool { return count("p2") == 1 })
	if count("p1") != 1 {
		t.Fatalf("p1 applied %d times", count("p1"))
	}
	erase("p1") // the same erasure again: deduplicated by its message id
	erase("p3")
	hubtest.EventuallyWithin(t, hubtest.SourceTimeout, "p3 erased in the cell", func() bool { return count("p3") == 1 })
	if count("p1") != 1 {
		t.Fatalf("p1 applied %d times after a duplicate enqueue", count("p1"))
	}
}

func TestEnqueueRejectsBadInput(t *testing.T) {
	d := openDB(t)
	for _, tc := range []struct {
		name, subject, msgID string
		data                 []byte
	}{
		{"cell subject", "cell.eu-1.x", "m", nil},
		{"bare prefix", "global.", "m", nil},
		{"no msg id", "global.x", "", nil},
		{"too big", "global.x", "m", make([]byte, federation.MaxOutboxData+1)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := d.RunTx(context.Background(), func(ctx context.Context, tx pgx.Tx) error {
				return federation.Enqueue(ctx, tx, tc.subject, tc.msgID, tc.data)
			})
			if err == nil {
				t.Fatal("accepted")
			}
		})
	}
}

// BenchmarkApply measures events applied per second through the framework
// (one transaction each: marker plus a one-row effect) from a cell's
// stream, sourced over a real leaf connection into CELL_EVENTS.
func BenchmarkApply(b *testing.B) {
	d := openDB(b)
	h := hubtest.StartHub(b, hubtest.HubConfig(b.TempDir(), "eu-1"))
	eu := hubtest.StartCell(b, hubtest.CellConfig("eu-1", b.TempDir(), h.LeafURL()))
	ctx, cancel := context.WithTimeout(context.Background(), hubtest.SourceTimeout)
	defer cancel()
	for i := 0; i < b.N; i++ {
		if _, err := eu.Publish(ctx, contract.KindMatchCompleted, []byte("ok"), fmt.Sprintf("bench-%d", i)); err != nil {
			b.Fatal(err)
		}
	}
	st, err := h.JS.Stream(ctx, contract.CellEventsStream)
	if err != nil {
		b.Fatal(err)
	}
	hubtest.EventuallyWithin(b, hubtest.SourceTimeout, "sourced", func() bool {
		info, err := st.Info(ctx)
		return err == nil && info.State.Msgs == uint64(b.N)
	})
	rec := newRecorder()
	b.ResetTimer()
	f, err := federation.New(federation.Config{DB: d, JS: h.JS, Log: obs.Discard()})
	if err != nil {
		b.Fatal(err)
	}
	if err := f.Handle("test", contract.KindMatchCompleted, rec.apply); err != nil {
		b.Fatal(err)
	}
	if err := f.Start(ctx); err != nil {
		b.Fatal(err)
	}
	defer func() { _ = f.Shutdown(context.Background()) }()
	hubtest.EventuallyWithin(b, hubtest.SourceTimeout, "applied", func() bool {
		var n int
		return d.Pool.QueryRow(ctx, `SELECT count(*) FROM fedtest_effects`).Scan(&n) == nil && n == b.N
	})
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkCatchUp measures a cell's catch-up after an outage: b.N events
// are stored in the cell while the hub is stopped; the timer covers the hub
// starting again, sourcing them over the leaf and the framework applying
// them all. Report: seconds per catch-up via events/s.
func BenchmarkCatchUp(b *testing.B) {
	d := openDB(b)
	hcfg := hubtest.HubConfig(b.TempDir(), "eu-1")
	h := hubtest.StartHub(b, hcfg)
	hcfg.LeafPort = h.LeafPort()
	eu := hubtest.StartCell(b, hubtest.CellConfig("eu-1", b.TempDir(), h.LeafURL()))
	hubtest.WaitLeaf(b, eu)
	ctx, cancel := context.WithTimeout(context.Background(), 10*hubtest.SourceTimeout)
	defer cancel()
	if err := h.Shutdown(ctx); err != nil {
		b.Fatal(err)
	}
	hubtest.Eventually(b, "leaf down", func() bool { return !eu.LeafConnected() })
	body := []byte(`{"cell_id":"eu-1","session_id":"s","game_mode":"duel","players":[{"player_id":"p1","score":3},{"player_id":"p2","score":1}]}`)
	for i := 0; i < b.N; i++ {
		if _, err := eu.Publish(ctx, contract.KindMatchCompleted, body, fmt.Sprintf("catchup-%d", i)); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	h = hubtest.StartHub(b, hcfg)
	f, err := federation.New(federation.Config{DB: d, JS: h.JS, Log: obs.Discard()})
	if err != nil {
		b.Fatal(err)
	}
	if err := f.Handle("test", contract.KindMatchCompleted, newRecorder().apply); err != nil {
		b.Fatal(err)
	}
	if err := f.Start(ctx); err != nil {
		b.Fatal(err)
	}
	defer func() { _ = f.Shutdown(context.Background()) }()
	hubtest.EventuallyWithin(b, 10*hubtest.SourceTimeout, "caught up", func() bool {
		var n int
		return d.Pool.QueryRow(ctx, `SELECT count(*) FROM fedtest_effects`).Scan(&n) == nil && n == b.N
	})
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}
