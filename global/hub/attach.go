package hub

import (
	"context"
	"time"

	"github.com/atollgg/atoll/contract"
	"github.com/nats-io/nats-server/v2/server"
)

// leafWatchInterval is how often the embedded hub looks for new leaf
// connections: a cell's catch-up starts at most this long after its leaf
// is back.
const leafWatchInterval = 250 * time.Millisecond

// CellServerName is the server name a cell's embedded NATS announces over
// its leaf connection; the hub recognises the cell by it.
func CellServerName(id string) string { return "cell-" + id }

// watchLeafs attaches a cell's source to CELL_EVENTS each time the cell's
// leaf (re)connects, detaching it first on a reconnect.
//
// Why: nats-server sets a source up by a request into the cell's domain
// and waits 30 s for the answer; a request sent while the leaf is down is
// lost, and a reconnect during that wait does not retry it, so catch-up
// would start 40 s or more after the cell returns (up to 2 min after
// repeated failures). Attaching only once the leaf is up makes the first
// request succeed. The stream keeps each source's position by its name, so
// detaching and re-attaching resumes where it stopped.
func (h *Hub) watchLeafs(ctx context.Context) {
	conns := map[string]uint64{} // cell id -> leaf connection id last attached for
	t := time.NewTicker(leafWatchInterval)
	defer t.Stop()
	for {
		lz, err := h.Server.Leafz(&server.LeafzOptions{})
		if err == nil {
			now := map[string]uint64{}
			for _, l := range lz.Leafs {
				now[l.Name] = l.ID
			}
			h.mu.Lock()
			var changed []string
			for id := range h.cells {
				cid, up := now[CellServerName(id)]
				// The leaf is up before the cell's interest in its domain's
				// API has reached the hub; a request sent before that is
				// dropped and waited on for 30 s.
				if up && conns[id] != cid && h.Server.GlobalAccount().SubscriptionInterest(contract.JSAPIPrefix(id)+".STREAM.INFO."+contract.CellStreamName(id)) {
					changed = append(changed, id)
				}
			}
			h.mu.Unlock()
			for _, id := range changed {
				if err := h.reattach(ctx, id); err != nil {
					if ctx.Err() == nil {
						h.cfg.Log.Warn("source cell stream; retrying", "cell", id, "err", err)
					}
					continue
				}
				conns[id] = now[CellServerName(id)]
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (h *Hub) reattach(ctx context.Context, id string) error {
	rctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.attached[id] {
		delete(h.attached, id)
		if _, err := h.JS.UpdateStream(rctx, h.cellEventsConfig()); err != nil {
			h.attached[id] = true
			return err
		}
	}
	h.attached[id] = true
	if _, err := h.JS.UpdateStream(rctx, h.cellEventsConfig()); err != nil {
		delete(h.attached, id)
		return err
	}
	h.cfg.Log.Info("sourcing cell events", "cell", id, "stream", contract.CellStreamName(id))
	return nil
}
