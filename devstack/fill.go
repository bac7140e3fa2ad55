package devstack

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	gameclient "github.com/atollgg/atoll/gameserver/client"
	"github.com/prometheus/client_golang/prometheus"
)

// DefaultHumanFillAfter is how long a person's ticket waits alone before
// the dev world sends a bot to play them: long enough that two browser tabs
// find each other first.
const DefaultHumanFillAfter = 10 * time.Second

// fillCheckEvery paces reading the cells' queues.
const fillCheckEvery = time.Second

// maxResponse bounds a response body a bot reads.
const maxResponse = 1 << 20

// fillHumans watches every cell's queue: a ticket waiting longer than after
// (the bots' own tickets are matched in pairs at once, so it is a person's)
// gets a bot opponent queued on that cell. Development only: a production
// cell never invents players.
func (s *Stack) fillHumans(ctx context.Context, stop <-chan struct{}, after time.Duration, _ *Stats) {
	t := time.NewTicker(fillCheckEvery)
	defer t.Stop()
	waitingSince := make([]time.Time, len(s.Cells))
	filling := make([]chan struct{}, len(s.Cells))
	defer func() { // fillers end with ctx (Run cancels it before waiting)
		for _, f := range filling {
			if f != nil {
				<-f
			}
		}
	}()
	for {
		select {
		case <-ctx.Done():
			return
		case <-stop:
			return
		case <-t.C:
		}
		for i, c := range s.Cells {
			if filling[i] != nil {
				select {
				case <-filling[i]:
					filling[i] = nil
				default:
					continue
				}
			}
			if queued(c.Registry) == 0 {
				waitingSince[i] = time.Time{}
				continue
			}
			if waitingSince[i].IsZero() {
				waitingSince[i] = time.Now()
				continue
			}
			if time.Since(waitingSince[i]) < after {
				continue
			}
			waitingSince[i] = time.Time{}
			done := make(chan struct{})
			filling[i] = done
			home := s.topo.cells[i].index
			cellURL := c.URL()
			go func() { // one filler round, bounded by roundTimeout
				defer close(done)
				b := newBot(-1, home, s.GlobalURL(), newStats())
				rctx, cancel := context.WithTimeout(ctx, roundTimeout)
				defer cancel()
				_, _ = gameclient.PlayJourney(rctx, gameclient.JourneyConfig{GlobalURL: s.GlobalURL(), CellURL: cellURL,
					Mode: botMode, DeviceID: b.deviceID, LatencyMs: 1, HTTPClient: b.hc})
				b.hc.CloseIdleConnections()
			}()
		}
	}
}

// queued reads the cell's atoll_matchmaking_queued_tickets gauge.
func queued(reg prometheus.Gatherer) float64 {
	mfs, err := reg.Gather()
	if err != nil {
		return 0
	}
	for _, mf := range mfs {
		if mf.GetName() == "atoll_matchmaking_queued_tickets" {
			for _, m := range mf.GetMetric() {
				return m.GetGauge().GetValue()
			}
		}
	}
	return 0
}

func decodeLimited(resp *http.Response, into any) error {
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxResponse)).Decode(into); err != nil {
		return fmt.Errorf("decode: %w", err)
	}
	return nil
}
