package arenagame

import "github.com/atollgg/atoll/gameserver/netcode"

// This file is the match's output: snapshots, events and telemetry.

// sendSnapshots captures the current tick and sends each welcomed player
// its snapshot, delta-compressed against what it last acknowledged.
func (m *match) sendSnapshots() {
	snap := m.hist.Capture(m.w)
	for _, p := range m.peers {
		if !p.connected || !p.welcomed {
			continue
		}
		var err error
		m.buf, err = p.sc.AppendSnapshot(m.buf[:0], snap, m.w.LastProcessedSeq(p.seat))
		if err != nil {
			m.log.Error("encode snapshot", "player", p.id, "err", err)
			continue
		}
		m.queue(p, m.buf)
		m.stats.snapshots++
	}
}

// flushEvents broadcasts the events drained since the last flush to every
// welcomed player, encoded once per encoding.
func (m *match) flushEvents() {
	for len(m.events) > 0 {
		n := min(len(m.events), netcode.MaxEventsPerFrame)
		f := &netcode.ServerFrame{Kind: netcode.FrameEvents, Events: m.events[:n]}
		var encoded [2][]byte
		for _, p := range m.peers {
			if !p.connected || !p.welcomed {
				continue
			}
			if encoded[p.enc] == nil {
				b, err := netcode.AppendServerFrame(nil, p.enc, f)
				if err != nil {
					m.log.Error("encode events", "err", err)
					break
				}
				encoded[p.enc] = b
			}
			m.queue(p, encoded[p.enc])
		}
		m.events = m.events[:copy(m.events, m.events[n:])]
	}
}

// flushTelemetry hands the tick's anti-cheat events to the room, which
// sends them to the cell's telemetry stream.
func (m *match) flushTelemetry() {
	if len(m.telem) == 0 {
		return
	}
	m.room.Telemetry(m.telem...)
	m.telem = m.telem[:0]
}
