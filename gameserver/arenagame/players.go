package arenagame

import (
	"bytes"
	"errors"
	"runtime/debug"
	"time"

	"github.com/atollgg/atoll/gameserver/arena"
	"github.com/atollgg/atoll/gameserver/netcode"
	"github.com/atollgg/atoll/gameserver/server"
)

// This file is the players' side of a match: joins, leaves and frames in,
// anti-cheat verdicts out.

// handle applies one message from the room. Nothing in it may panic on
// client data (the decoders are fuzzed), but a bug must not take the match
// down: a panic is logged and the connection that caused it cut.
func (m *match) handle(msg server.Message) {
	defer func() {
		if r := recover(); r != nil {
			m.log.Error("panic handling a player message", "player", msg.PlayerID, "panic", r, "stack", string(debug.Stack()))
			m.room.Kick(msg.PlayerID, CloseProtocolError, "internal_error")
		}
	}()
	switch msg.Kind {
	case server.Joined:
		m.join(msg.PlayerID)
	case server.Left:
		m.leave(msg.PlayerID)
	case server.Frame:
		m.stats.framesIn++
		m.frameFrom(msg)
	}
	m.collect()
}

// join seats a player's new connection; a player already connected is
// reconnecting (the server replaced the old connection) and resumes.
func (m *match) join(id string) {
	p := m.peers[id]
	if p == nil {
		p = &peer{id: id}
		m.peers[id] = p
	}
	if p.banned {
		m.room.Kick(id, CloseKicked, "kicked")
		return
	}
	if p.connected {
		_ = m.w.RemovePlayer(p.seat) // cannot fail: p holds the seat
		p.connected = false
	}
	seat, err := m.w.AddPlayer(id)
	switch {
	case errors.Is(err, arena.ErrKicked):
		p.banned = true
		m.room.Kick(id, CloseKicked, "kicked")
		return
	case errors.Is(err, arena.ErrFull):
		m.room.Kick(id, CloseMatchFull, "match_full")
		return
	case err != nil:
		m.log.Warn("cannot seat player", "player", id, "err", err)
		m.room.Kick(id, CloseProtocolError, "cannot_seat")
		return
	}
	if p.seated && p.seat != seat && m.bySeat[p.seat] == p {
		m.bySeat[p.seat] = nil
	}
	p.seat, p.seated, p.connected = seat, true, true
	m.bySeat[seat] = p
	gate, err := m.cfg.Arena.NewInputGate()
	if err != nil { // unreachable: Config.Validate checked the budget and window
		m.log.Error("input gate", "err", err)
		_ = m.w.RemovePlayer(seat)
		p.connected = false
		m.room.Kick(id, CloseProtocolError, "cannot_seat")
		return
	}
	p.gate, p.sc, p.encKnown, p.welcomed = gate, nil, false, false
	m.log.Debug("player seated", "player", id, "seat", seat)
}

func (m *match) leave(id string) {
	p := m.peers[id]
	if p == nil || !p.connected {
		return
	}
	_ = m.w.RemovePlayer(p.seat) // cannot fail: p holds the seat
	p.connected, p.welcomed = false, false
	m.log.Debug("player left", "player", id, "seat", p.seat)
}

// gateNow is the input gate's clock: ticks of wall time since the match
// was created, so the flood check works in the lobby too.
func (m *match) gateNow(at time.Time) uint64 {
	d := at.Sub(m.epoch)
	if d < 0 {
		return 0
	}
	return uint64(d / m.interval)
}

// frameFrom applies one client frame: flood check, decode, then inputs,
// acknowledgements and pings. Every failure is a counted violation; the
// world kicks a player whose violations pile up.
func (m *match) frameFrom(msg server.Message) {
	p := m.peers[msg.PlayerID]
	if p == nil || !p.connected {
		return
	}
	if !p.gate.Allow(m.gateNow(msg.At)) {
		m.violate(p, arena.ViolationInputFlood)
		return
	}
	enc := netcode.Binary
	if !msg.Binary {
		enc = netcode.JSON
	}
	// Text frames must be JSON and binary frames binary, and a connection
	// keeps the encoding its first frame chose.
	looksJSON := len(msg.Data) > 0 && msg.Data[0] == '{'
	if looksJSON != (enc == netcode.JSON) || (p.encKnown && enc != p.enc) {
		m.stats.badFrames++
		m.violate(p, arena.ViolationMalformed)
		return
	}
	if err := netcode.DecodeClientFrame(msg.Data, &m.frame); err != nil {
		m.stats.badFrames++
		m.violate(p, arena.ViolationMalformed)
		return
	}
	if !p.encKnown {
		p.enc, p.encKnown = enc, true
		p.sc = netcode.NewServerConn(m.hist, enc)
	}
	if !p.welcomed && !m.welcome(p) {
		return
	}
	f := &m.frame
	switch f.Kind {
	case netcode.FrameInput:
		if m.started {
			for _, in := range f.Inputs {
				if _, err := m.w.ApplyInput(p.seat, in); err != nil {
					break // kicked by this very input, or the match is over
				}
			}
		}
		if f.HasAck {
			p.sc.Ack(f.AckTick)
		}
	case netcode.FrameAck:
		p.sc.Ack(f.AckTick)
	case netcode.FramePing:
		m.send(p, &netcode.ServerFrame{Kind: netcode.FramePong, Pong: netcode.Pong{
			ID: f.Ping.ID, ClientTime: f.Ping.ClientTime, ServerTick: m.w.Tick(),
		}})
	}
}

// welcome sends p its seat and the rules; it reports whether it could.
func (m *match) welcome(p *peer) bool {
	ok := m.send(p, &netcode.ServerFrame{Kind: netcode.FrameWelcome, Welcome: netcode.Welcome{
		Version: netcode.ProtocolVersion, Player: p.seat, Tick: m.w.Tick(), Config: m.w.Config(),
	}})
	p.welcomed = ok
	return ok
}

// send encodes f in p's encoding and queues it.
func (m *match) send(p *peer, f *netcode.ServerFrame) bool {
	var err error
	m.buf, err = netcode.AppendServerFrame(m.buf[:0], p.enc, f)
	if err != nil {
		m.log.Error("encode server frame", "kind", f.Kind, "err", err)
		return false
	}
	return m.queue(p, m.buf)
}

// queue hands a copy of data to p's connection: the room keeps it until
// the writer has sent it, and m.buf is reused at once.
func (m *match) queue(p *peer, data []byte) bool {
	m.stats.bytesOut += uint64(len(data))
	return m.room.Send(p.id, p.enc == netcode.Binary, bytes.Clone(data))
}

func (m *match) violate(p *peer, kind arena.ViolationKind) {
	if err := m.w.ReportViolation(p.seat, kind); err != nil {
		m.log.Error("report violation", "player", p.id, "kind", kind, "err", err)
	}
}

// collect drains what the world recorded: violations become telemetry,
// kicks close connections, and events wait for the next snapshot.
func (m *match) collect() {
	var dropped uint64
	m.viols, dropped = m.w.DrainViolations(m.viols[:0])
	m.stats.violationsDropped += dropped
	now := time.Now()
	for _, v := range m.viols {
		p := m.bySeat[v.Player]
		if p == nil {
			continue
		}
		p.counts[v.Kind]++
		m.stats.violations++
		m.telem = append(m.telem, telemetryEvent(TelemetryViolation, p.id, now,
			ViolationData{Violation: v.Kind.String(), Tick: v.Tick, Seq: v.Seq}))
		m.log.Debug("anti-cheat violation", "player", p.id, "kind", v.Kind.String(), "tick", v.Tick, "seq", v.Seq)
	}
	from := len(m.events)
	m.events, dropped = m.w.DrainEvents(m.events)
	m.stats.eventsDropped += dropped
	for _, e := range m.events[from:] {
		if e.Kind == arena.EventKick {
			m.kicked(e.Player, e.Tick, now)
		}
	}
}

// kicked closes the connection of the player the world just kicked and
// frees its seat mapping (the world has freed the seat itself).
func (m *match) kicked(seat arena.PlayerID, tick uint32, now time.Time) {
	p := m.bySeat[seat]
	if p == nil {
		return
	}
	m.bySeat[seat] = nil
	wasConnected := p.connected
	p.seated, p.connected, p.banned = false, false, true
	m.stats.kicks++
	m.telem = append(m.telem, telemetryEvent(TelemetryKick, p.id, now, KickData{Tick: tick, Counts: countsByName(p.counts)}))
	m.log.Warn("player kicked for anti-cheat violations", "player", p.id, "violations", countsByName(p.counts))
	if !wasConnected {
		return
	}
	if p.encKnown {
		m.send(p, &netcode.ServerFrame{Kind: netcode.FrameKick, Kick: netcode.Kick{
			Reason: netcode.KickViolations, Detail: "too many anti-cheat violations",
		}})
	}
	m.room.Kick(p.id, CloseKicked, "kicked")
}

// releaseDeparted forgets the seats of players whose reconnect grace ran
// out during the last Step (the world freed them).
func (m *match) releaseDeparted() {
	for _, p := range m.peers {
		if p.seated && !p.connected {
			if _, ok := m.w.Player(p.seat); !ok {
				if m.bySeat[p.seat] == p {
					m.bySeat[p.seat] = nil
				}
				p.seated = false
			}
		}
	}
}
