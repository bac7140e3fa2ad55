package matchmaker

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"testing"
	"time"
)

// FuzzPass feeds arbitrary tickets to a pool: Add must reject bad ones with
// one of its errors, and Pass must neither panic nor break its promises.
func FuzzPass(f *testing.F) {
	f.Add([]byte{0, 1, 0, 0, 20, 0, 5, 0, 1, 0, 10, 30, 0, 0, 2, 1, 0, 0})
	f.Add([]byte{2, 3, 0xff, 0x7f, 0xff, 0xff, 0xff, 0xff, 3, 2, 0, 0x80, 0, 0, 0, 0, 4, 1, 1, 1, 1, 1, 1, 1})
	f.Add([]byte{3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1})
	f.Fuzz(passArbitraryTickets)
}

// passArbitraryTickets decodes data into a mode choice and tickets, queues
// them and checks three Passes, the last after every timeout.
func passArbitraryTickets(t *testing.T, data []byte) {
	modes := DefaultModes()
	if len(data) < 1 {
		return
	}
	p, err := NewPool(modes[int(data[0])%len(modes)])
	if err != nil {
		t.Fatal(err)
	}
	m := p.Mode()
	data = data[1:]
	const rec = 7 // size, rating (2), latency (2), wait (1), special
	accepted := 0
	for i := 0; len(data) >= rec; i++ {
		r, rest := data[:rec], data[rec:]
		data = rest
		size := int(r[0]%7) + 1 // up to 7: above every default team size
		rating := 1500 + float64(int16(binary.LittleEndian.Uint16(r[1:3])))/10
		switch r[6] % 16 {
		case 0:
			rating = math.NaN()
		case 1:
			rating = math.Inf(1)
		}
		tk := Ticket{
			ID: fmt.Sprint("t", i), Mode: m.Name,
			LatencyMs:  int(int16(binary.LittleEndian.Uint16(r[3:5]))),
			EnqueuedAt: epoch.Add(-time.Duration(r[5]) * time.Second),
		}
		for j := range size {
			// Some players repeat across tickets to hit ErrPlayerQueued.
			tk.Players = append(tk.Players, Player{ID: fmt.Sprint("p", (i*7+j)%(int(r[6])+20)), Rating: rating + float64(j)})
		}
		err := p.Add(tk)
		switch {
		case err == nil:
			accepted++
		case errors.Is(err, ErrInvalidTicket), errors.Is(err, ErrPartyTooLarge), errors.Is(err, ErrPlayerQueued):
		default:
			t.Fatalf("Add: unexpected error %v", err)
		}
	}
	done := 0
	for _, at := range []time.Time{epoch, epoch.Add(50 * time.Second), epoch.Add(10 * time.Minute)} {
		res := p.Pass(at)
		for _, mt := range res.Matches {
			verifyMatch(t, m, mt, at)
			done += len(mt.Tickets)
		}
		done += len(res.TimedOut)
		if done+p.Len() != accepted {
			t.Fatalf("%d accepted, %d matched or timed out, %d queued", accepted, done, p.Len())
		}
	}
	if p.Len() != 0 {
		t.Fatalf("%d tickets outlived every timeout", p.Len())
	}
}
