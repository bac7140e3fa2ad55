package netcode

import (
	"fmt"

	"github.com/atollgg/atoll/gameserver/arena"
)

// History keeps the last HistorySize captured snapshots of one match. They
// are shared by every ServerConn as delta baselines, so a baseline costs
// memory once per match, not once per client. Not safe for concurrent use:
// the match goroutine owns it.
type History struct {
	ring    [HistorySize]Snapshot
	valid   [HistorySize]bool
	scratch captureScratch
}

// NewHistory returns an empty history.
func NewHistory() *History { return &History{} }

// Capture snapshots w's current tick into the ring and returns it. The
// snapshot is shared: callers must not modify it, and it is overwritten
// HistorySize ticks later.
func (h *History) Capture(w *arena.World) *Snapshot {
	slot := w.Tick() % HistorySize
	h.scratch.capture(w, &h.ring[slot])
	h.valid[slot] = true
	return &h.ring[slot]
}

// Lookup returns the snapshot of tick, or nil if it was never captured or
// has been overwritten.
func (h *History) Lookup(tick uint32) *Snapshot {
	slot := tick % HistorySize
	if !h.valid[slot] || h.ring[slot].Tick != tick {
		return nil
	}
	return &h.ring[slot]
}

// ServerConn is the server's snapshot state for one client: which snapshots
// it was sent (a bounded ring of ticks) and the newest one it acknowledged,
// which becomes the next delta baseline. Owned by the match goroutine.
type ServerConn struct {
	hist     *History
	enc      Encoding
	sent     [HistorySize]uint32
	sentOK   [HistorySize]bool
	acked    uint32
	hasAcked bool

	// Full and Delta count snapshots sent each way, for telemetry.
	Full, Delta uint64
}

// NewServerConn starts a client's snapshot stream; until it acknowledges a
// snapshot, it gets full ones.
func NewServerConn(h *History, enc Encoding) *ServerConn {
	return &ServerConn{hist: h, enc: enc}
}

// Ack records that the client reconstructed the snapshot of tick. Acks for
// snapshots never sent to this client, or older than the current baseline,
// are ignored; Ack reports whether the baseline moved.
func (c *ServerConn) Ack(tick uint32) bool {
	slot := tick % HistorySize
	if !c.sentOK[slot] || c.sent[slot] != tick || (c.hasAcked && tick <= c.acked) {
		return false
	}
	c.acked, c.hasAcked = tick, true
	return true
}

// baseline returns the acknowledged snapshot to diff cur against, or nil
// when it is unknown or too old (a full snapshot is sent instead).
func (c *ServerConn) baseline(cur *Snapshot) *Snapshot {
	if !c.hasAcked || c.acked >= cur.Tick || cur.Tick-c.acked >= HistorySize {
		return nil
	}
	if slot := c.acked % HistorySize; !c.sentOK[slot] || c.sent[slot] != c.acked {
		return nil
	}
	return c.hist.Lookup(c.acked)
}

// AppendSnapshot encodes cur (normally from History.Capture) for this
// client, as a delta against its acknowledged baseline when there is one,
// with ackSeq = World.LastProcessedSeq of the client's player.
func (c *ServerConn) AppendSnapshot(dst []byte, cur *Snapshot, ackSeq uint32) ([]byte, error) {
	var err error
	if c.enc == JSON {
		s := *cur
		s.AckSeq = ackSeq
		dst, err = appendServerJSON(dst, &ServerFrame{Kind: FrameSnapshot, Snapshot: &s})
		c.Full++
	} else {
		base := c.baseline(cur)
		dst, err = AppendSnapshot(dst, cur, base, ackSeq)
		if base == nil {
			c.Full++
		} else {
			c.Delta++
		}
	}
	if err != nil {
		return dst, fmt.Errorf("server conn: %w", err)
	}
	slot := cur.Tick % HistorySize
	c.sent[slot], c.sentOK[slot] = cur.Tick, true
	return dst, nil
}

// ClientConn is the client's end: it keeps the snapshots it reconstructed
// as baselines for the deltas that follow. Not safe for concurrent use.
type ClientConn struct {
	ring    [HistorySize]Snapshot
	valid   [HistorySize]bool
	scratch Snapshot
	latest  uint32
	has     bool
}

// NewClientConn returns a conn with no snapshots yet.
func NewClientConn() *ClientConn { return &ClientConn{} }

// Latest returns the newest reconstructed snapshot, or nil.
func (c *ClientConn) Latest() *Snapshot {
	if !c.has {
		return nil
	}
	return c.lookup(c.latest)
}

func (c *ClientConn) lookup(tick uint32) *Snapshot {
	slot := tick % HistorySize
	if !c.valid[slot] || c.ring[slot].Tick != tick {
		return nil
	}
	return &c.ring[slot]
}

// DecodeServerFrame decodes any server frame, binary or JSON, into dst. A
// snapshot is reconstructed against the baseline it names and kept as a
// future baseline; dst.Snapshot points into the conn. A snapshot older than
// Latest still decodes (it may serve as a baseline) — callers should only
// act on, and acknowledge, ticks newer than what they have.
func (c *ClientConn) DecodeServerFrame(data []byte, dst *ServerFrame) error {
	json := isJSON(data)
	if json && len(data) > MaxJSONFrameSize || !json && len(data) > MaxFrameSize {
		return fmt.Errorf("decode server frame: %w: %d bytes", ErrFrameTooLarge, len(data))
	}
	dst.Snapshot = nil
	if json {
		if err := decodeServerJSON(data, dst, &c.scratch); err != nil {
			return err
		}
	} else if len(data) > 0 && FrameKind(data[0]) == FrameSnapshot {
		dst.Kind = FrameSnapshot
		h, err := PeekSnapshot(data)
		if err != nil {
			return err
		}
		var base *Snapshot
		if h.HasBase {
			if base = c.lookup(h.Baseline); base == nil {
				return fmt.Errorf("decode snapshot %d: %w %d", h.Tick, ErrUnknownBaseline, h.Baseline)
			}
		}
		if err := DecodeSnapshot(data, base, &c.scratch); err != nil {
			return err
		}
	} else {
		return decodeServerFrame(data, dst)
	}
	if dst.Kind != FrameSnapshot {
		return nil
	}
	if c.has && c.scratch.Tick < c.latest && c.latest-c.scratch.Tick >= HistorySize {
		// Its ring slot now holds a newer snapshot worth more as a baseline.
		return fmt.Errorf("decode snapshot %d: %w: older than the baseline window", c.scratch.Tick, ErrMalformed)
	}
	// Swap the decoded snapshot into the ring, keeping the old slot's memory
	// as the next scratch.
	slot := c.scratch.Tick % HistorySize
	c.ring[slot], c.scratch = c.scratch, c.ring[slot]
	c.valid[slot] = true
	if !c.has || c.ring[slot].Tick > c.latest {
		c.latest, c.has = c.ring[slot].Tick, true
	}
	dst.Snapshot = &c.ring[slot]
	return nil
}
