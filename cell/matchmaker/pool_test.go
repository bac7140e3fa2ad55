package matchmaker

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestNewPoolRejectsInvalidMode(t *testing.T) {
	m := testMode(t, "duel")
	m.TeamSize = 0
	if _, err := NewPool(m); err == nil || !strings.Contains(err.Error(), "team_size") {
		t.Fatalf("NewPool = %v, want a team_size error", err)
	}
}

func TestAddValidation(t *testing.T) {
	m := testMode(t, "2v2")
	m.MaxTickets = 2
	ok := func() Ticket { return party("2v2", "t", 30, 0, 1500, 1600) }
	tests := []struct {
		name string
		edit func(t *Ticket)
		want error
		msg  string
	}{
		{"no id", func(t *Ticket) { t.ID = "" }, ErrInvalidTicket, "ticket id is required"},
		{"long id", func(t *Ticket) { t.ID = strings.Repeat("x", MaxIDLen+1) }, ErrInvalidTicket, "above the limit"},
		{"wrong mode", func(t *Ticket) { t.Mode = "duel" }, ErrWrongMode, `is for mode "duel"`},
		{"no players", func(t *Ticket) { t.Players = nil }, ErrInvalidTicket, "has no players"},
		{"party too large", func(t *Ticket) {
			t.Players = append(t.Players, Player{ID: "third", Rating: 1500})
		}, ErrPartyTooLarge, "has 3 players, mode \"2v2\" allows parties of at most 2"},
		{"negative latency", func(t *Ticket) { t.LatencyMs = -1 }, ErrInvalidTicket, "latency -1 ms"},
		{"huge latency", func(t *Ticket) { t.LatencyMs = MaxLatencyLimitMs + 1 }, ErrInvalidTicket, "outside 0..10000"},
		{"no enqueue time", func(t *Ticket) { t.EnqueuedAt = time.Time{} }, ErrInvalidTicket, "no enqueue time"},
		{"player without id", func(t *Ticket) { t.Players[1].ID = "" }, ErrInvalidTicket, "player 1 has no id"},
		{"NaN rating", func(t *Ticket) { t.Players[0].Rating = math.NaN() }, ErrInvalidTicket, "not a finite number"},
		{"infinite rating", func(t *Ticket) { t.Players[0].Rating = math.Inf(-1) }, ErrInvalidTicket, "not a finite number"},
		{"absurd rating", func(t *Ticket) { t.Players[0].Rating = 2 * MaxAbsRating }, ErrInvalidTicket, "within ±"},
		{"player twice", func(t *Ticket) { t.Players[1].ID = t.Players[0].ID }, ErrInvalidTicket, "twice"},
		{"duplicate ticket", func(t *Ticket) { t.ID = "queued"; t.Players[0].ID, t.Players[1].ID = "x1", "x2" }, ErrDuplicateTicket, `"queued"`},
		{"player queued elsewhere", func(t *Ticket) { t.Players[1].ID = "p-queued-0" }, ErrPlayerQueued, `player "p-queued-0" is in ticket "queued"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := newTestPool(t, m)
			mustAdd(t, p, party("2v2", "queued", 30, 0, 1500))
			tk := ok()
			tc.edit(&tk)
			err := p.Add(tk)
			if !errors.Is(err, tc.want) {
				t.Fatalf("Add = %v, want %v", err, tc.want)
			}
			if !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("Add = %q, want it to contain %q", err, tc.msg)
			}
			if p.Len() != 1 {
				t.Errorf("failed Add changed the pool: Len = %d", p.Len())
			}
			// A rejected ticket leaves no trace: its valid form is accepted.
			if err := p.Add(ok()); err != nil {
				t.Errorf("Add after rejection: %v", err)
			}
		})
	}
}

func TestAddFullPool(t *testing.T) {
	m := testMode(t, "duel")
	m.MaxTickets = 2
	p := newTestPool(t, m)
	mustAdd(t, p, solo("duel", "a", 1500, 10, 0), solo("duel", "b", 1500, 10, 0))
	if err := p.Add(solo("duel", "c", 1500, 10, 0)); !errors.Is(err, ErrPoolFull) {
		t.Fatalf("Add to a full pool = %v, want ErrPoolFull", err)
	}
	if !p.Remove("a") {
		t.Fatal("Remove(a) = false")
	}
	mustAdd(t, p, solo("duel", "c", 1500, 10, 0))
}

func TestRemove(t *testing.T) {
	p := newTestPool(t, testMode(t, "duel"))
	mustAdd(t, p, solo("duel", "a", 1500, 10, 0), solo("duel", "b", 1500, 10, 0), solo("duel", "c", 1500, 10, 0))
	if !p.Remove("a") {
		t.Fatal("Remove(a) = false for a queued ticket")
	}
	if p.Remove("a") {
		t.Fatal("second Remove(a) = true")
	}
	if p.Len() != 2 {
		t.Fatalf("Len = %d, want 2", p.Len())
	}
	// The player of a removed ticket may queue again.
	mustAdd(t, p, solo("duel", "a", 1500, 10, 0))
	if _, _, ok := p.Window("b", epoch); !ok {
		t.Error("Remove(a) lost ticket b")
	}
}

func TestAddKeepsItsOwnCopy(t *testing.T) {
	p := newTestPool(t, testMode(t, "duel"))
	a := solo("duel", "a", 1500, 10, time.Second)
	mustAdd(t, p, a, solo("duel", "b", 1500, 10, time.Second))
	a.Players[0].ID, a.Players[0].Rating = "mallory", 9000
	res := p.Pass(epoch)
	if len(res.Matches) != 1 {
		t.Fatalf("got %d matches, want 1", len(res.Matches))
	}
	for _, tk := range res.Matches[0].Tickets {
		if tk.ID == "a" && (tk.Players[0].ID != "p-a" || tk.Players[0].Rating != 1500) {
			t.Errorf("caller's later edit reached the queue: %+v", tk.Players[0])
		}
	}
}

// TestPoolConcurrentUse runs Pass while other goroutines add, remove and
// read windows; -race checks the locking.
func TestPoolConcurrentUse(t *testing.T) {
	p := newTestPool(t, testMode(t, "duel"))
	const writers, perWriter = 4, 200
	var wg sync.WaitGroup
	var removed atomic.Int64 // a Pass may match a ticket before its Remove
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perWriter {
				id := fmt.Sprintf("w%d-%d", w, i)
				if err := p.Add(solo("duel", id, 1500+float64(i%50), 10, time.Duration(i)*time.Millisecond)); err != nil {
					t.Errorf("Add(%s): %v", id, err)
					return
				}
				p.Window(id, epoch)
				if i%5 == 0 && p.Remove(id) {
					removed.Add(1)
				}
			}
		}()
	}
	stop := make(chan struct{})
	passes := make(chan int)
	go func() {
		matched := 0
		for {
			select {
			case <-stop:
				passes <- matched
				return
			default:
				matched += len(p.Pass(epoch).Matches)
			}
		}
	}()
	wg.Wait()
	close(stop)
	matched := <-passes
	matched += len(p.Pass(epoch).Matches)
	if got, want := 2*matched+p.Len(), writers*perWriter-int(removed.Load()); got != want {
		t.Fatalf("matched players + queued = %d, want %d", got, want)
	}
}
