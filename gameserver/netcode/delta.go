package netcode

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/atollgg/atoll/gameserver/arena"
)

// Snapshot frame layout (binary):
//
//	kind(0x11) tick:uvarint baseAge:uvarint ackSeq:uvarint ticksLeft:uvarint state:byte
//	players section, projectiles section
//
// baseAge 0 is a full snapshot; otherwise the baseline is tick-baseAge.
// Each section is
//
//	removed:u16 then that many IDs, changed:u16 then that many entries
//	entry = ID, field mask:uvarint, one zigzag varint diff per set bit
//
// IDs ascend strictly and are written as a delta from the previous ID in the
// same list (the first one absolute). An entity absent from the baseline is
// diffed against a blank entity, so an entity appears in "changed" when it is
// new or any field differs, and nothing is sent for an unchanged one.

const stateOver = 1 << 0

// maxFields is the widest entity (PlayerState).
const maxFields = 11

type fields [maxFields]int64

// entity is implemented by *PlayerState and *ProjectileState, for the
// generic section decoder.
type entity[E any] interface {
	*E
	key() uint32
	setKey(uint32)
	// Fields pass by value: a pointer through a generic method makes the
	// caller's array escape to the heap on every call.
	load() fields
	store(fields)
}

// spec describes one entity type's wire schema.
type spec struct {
	n        int
	lo, hi   fields
	maxID    uint32
	maxCount int
	blank    func(tick uint32) fields
}

const (
	i32lo, i32hi = math.MinInt32, math.MaxInt32
	u32hi        = math.MaxUint32
)

var playerSpec = spec{
	n: 11,
	// X, Y, VX, VY, Aim, Health, Flags, RespawnIn, Score, Kills, Deaths
	lo:       fields{i32lo, i32lo, i32lo, i32lo, 0, i32lo, 0, 0, i32lo, i32lo, i32lo},
	hi:       fields{i32hi, i32hi, i32hi, i32hi, math.MaxUint16, i32hi, FlagAlive | FlagConnected, u32hi, i32hi, i32hi, i32hi},
	maxID:    arena.MaxPlayers - 1,
	maxCount: MaxPlayersPerSnapshot,
	blank:    func(uint32) fields { return fields{} },
}

func (p *PlayerState) key() uint32     { return uint32(p.ID) }
func (p *PlayerState) setKey(k uint32) { p.ID = arena.PlayerID(k) }
func (p *PlayerState) load() fields {
	return fields{
		int64(p.X), int64(p.Y), int64(p.VX), int64(p.VY),
		int64(p.Aim), int64(p.Health), int64(p.Flags), int64(p.RespawnIn),
		int64(p.Score), int64(p.Kills), int64(p.Deaths),
	}
}
func (p *PlayerState) store(f fields) {
	p.X, p.Y, p.VX, p.VY = int32(f[0]), int32(f[1]), int32(f[2]), int32(f[3])
	p.Aim, p.Health, p.Flags, p.RespawnIn = arena.Angle(f[4]), int32(f[5]), uint8(f[6]), uint32(f[7])
	p.Score, p.Kills, p.Deaths = int32(f[8]), int32(f[9]), int32(f[10])
}

var projectileSpec = spec{
	n: 6,
	// Owner, SpawnTick, X, Y, VX, VY
	lo:       fields{0, 0, i32lo, i32lo, i32lo, i32lo},
	hi:       fields{arena.MaxPlayers - 1, u32hi, i32hi, i32hi, i32hi, i32hi},
	maxID:    u32hi,
	maxCount: MaxProjectilesPerSnapshot,
	// A new projectile almost always spawned just before this snapshot, so
	// diffing its spawn tick against the snapshot tick keeps it to a byte.
	blank: func(tick uint32) fields { return fields{1: int64(tick)} },
}

func (p *ProjectileState) key() uint32     { return p.ID }
func (p *ProjectileState) setKey(k uint32) { p.ID = k }
func (p *ProjectileState) load() fields {
	return fields{int64(p.Owner), int64(p.SpawnTick), int64(p.X), int64(p.Y), int64(p.VX), int64(p.VY)}
}
func (p *ProjectileState) store(f fields) {
	p.Owner, p.SpawnTick = arena.PlayerID(f[0]), uint32(f[1])
	p.X, p.Y, p.VX, p.VY = int32(f[2]), int32(f[3]), int32(f[4]), int32(f[5])
}

// AppendSnapshot encodes cur as a delta against base (nil for a full
// snapshot) addressed to a client whose last processed input is ackSeq.
// base must be an earlier snapshot less than HistorySize ticks old.
func AppendSnapshot(dst []byte, cur, base *Snapshot, ackSeq uint32) ([]byte, error) {
	if err := cur.validate(); err != nil {
		return dst, fmt.Errorf("encode snapshot: %w", err)
	}
	age := uint32(0)
	if base != nil {
		if err := base.validate(); err != nil {
			return dst, fmt.Errorf("encode snapshot baseline: %w", err)
		}
		if base.Tick >= cur.Tick || cur.Tick-base.Tick >= HistorySize {
			return dst, fmt.Errorf("encode snapshot: baseline tick %d unusable for tick %d", base.Tick, cur.Tick)
		}
		age = cur.Tick - base.Tick
	}
	start := len(dst)
	dst = append(dst, byte(FrameSnapshot))
	dst = binary.AppendUvarint(dst, uint64(cur.Tick))
	dst = binary.AppendUvarint(dst, uint64(age))
	dst = binary.AppendUvarint(dst, uint64(ackSeq))
	dst = binary.AppendUvarint(dst, uint64(cur.TicksLeft))
	state := byte(cur.EndReason) << 1
	if cur.Over {
		state |= stateOver
	}
	dst = append(dst, state)
	var basePlayers []PlayerState
	var baseProjectiles []ProjectileState
	if base != nil {
		basePlayers, baseProjectiles = base.Players, base.Projectiles
	}
	dst = appendPlayers(dst, cur.Players, basePlayers)
	dst = appendProjectiles(dst, cur.Projectiles, baseProjectiles, cur.Tick)
	if len(dst)-start > MaxFrameSize {
		return dst[:start], fmt.Errorf("encode snapshot: %w: %d bytes", ErrFrameTooLarge, len(dst)-start)
	}
	return dst, nil
}

func appendID(dst []byte, id, prev uint32, first bool) []byte {
	if first {
		return binary.AppendUvarint(dst, uint64(id))
	}
	return binary.AppendUvarint(dst, uint64(id-prev))
}

// sectionWriter writes one list of a section: a u16 count patched in at
// the end, then IDs as ascending deltas, each optionally followed by fields.
type sectionWriter struct {
	countAt, n int
	prev       uint32
}

func (w *sectionWriter) begin(dst []byte) []byte {
	w.countAt, w.n, w.prev = len(dst), 0, 0
	return append(dst, 0, 0)
}

func (w *sectionWriter) id(dst []byte, id uint32) []byte {
	dst = appendID(dst, id, w.prev, w.n == 0)
	w.prev = id
	w.n++
	return dst
}

// entry writes id, the mask of fields that differ from base and their diffs.
func (w *sectionWriter) entry(dst []byte, id uint32, cur, base *fields, n int) []byte {
	dst = w.id(dst, id)
	var mask uint64
	for f := 0; f < n; f++ {
		if cur[f] != base[f] {
			mask |= 1 << f
		}
	}
	dst = binary.AppendUvarint(dst, mask)
	for f := 0; f < n; f++ {
		if mask&(1<<f) != 0 {
			dst = binary.AppendVarint(dst, cur[f]-base[f])
		}
	}
	return dst
}

func (w *sectionWriter) end(dst []byte) {
	binary.LittleEndian.PutUint16(dst[w.countAt:], uint16(w.n))
}

// The two section encoders are written out per type rather than generically:
// this is the server's per-client hot loop, and method calls through a
// generic dictionary cost more than the diffing itself.

func appendPlayers(dst []byte, cur, base []PlayerState) []byte {
	var w sectionWriter
	dst = w.begin(dst) // removed
	j := 0
	for i := range base {
		id := base[i].ID
		for j < len(cur) && cur[j].ID < id {
			j++
		}
		if j >= len(cur) || cur[j].ID != id {
			dst = w.id(dst, uint32(id))
		}
	}
	w.end(dst)
	dst = w.begin(dst) // changed
	i := 0
	for j := range cur {
		c := &cur[j]
		for i < len(base) && base[i].ID < c.ID {
			i++
		}
		var bf fields // playerSpec.blank, inlined
		if i < len(base) && base[i].ID == c.ID {
			if *c == base[i] {
				continue
			}
			bf = base[i].load()
		}
		cf := c.load()
		dst = w.entry(dst, uint32(c.ID), &cf, &bf, playerSpec.n)
	}
	w.end(dst)
	return dst
}

func appendProjectiles(dst []byte, cur, base []ProjectileState, tick uint32) []byte {
	var w sectionWriter
	dst = w.begin(dst) // removed
	j := 0
	for i := range base {
		id := base[i].ID
		for j < len(cur) && cur[j].ID < id {
			j++
		}
		if j >= len(cur) || cur[j].ID != id {
			dst = w.id(dst, id)
		}
	}
	w.end(dst)
	dst = w.begin(dst) // changed
	i := 0
	for j := range cur {
		c := &cur[j]
		for i < len(base) && base[i].ID < c.ID {
			i++
		}
		bf := fields{1: int64(tick)} // projectileSpec.blank, inlined
		if i < len(base) && base[i].ID == c.ID {
			if *c == base[i] {
				continue
			}
			bf = base[i].load()
		}
		cf := c.load()
		dst = w.entry(dst, c.ID, &cf, &bf, projectileSpec.n)
	}
	w.end(dst)
	return dst
}

// SnapshotHeader is what PeekSnapshot reads without a baseline.
type SnapshotHeader struct {
	Tick     uint32
	Baseline uint32 // meaningful when HasBase
	HasBase  bool
}

// PeekSnapshot reads a binary snapshot frame's tick and baseline, so a
// client can find the baseline before decoding. JSON snapshots are always
// full.
func PeekSnapshot(data []byte) (SnapshotHeader, error) {
	if isJSON(data) {
		return SnapshotHeader{}, fmt.Errorf("peek snapshot: %w: JSON snapshots carry no baseline", ErrMalformed)
	}
	r := reader{b: data}
	var h SnapshotHeader
	if k := FrameKind(r.byte()); k != FrameSnapshot && r.err == nil {
		r.fail("%v is not a snapshot", k)
	}
	h.Tick = r.u32("tick")
	age := r.u32("baseline age")
	if r.err != nil {
		return h, fmt.Errorf("peek snapshot: %w", r.err)
	}
	if age >= HistorySize || age > h.Tick {
		return h, fmt.Errorf("peek snapshot: %w: baseline age %d", ErrMalformed, age)
	}
	h.Baseline, h.HasBase = h.Tick-age, age != 0
	return h, nil
}

// DecodeSnapshot reconstructs a snapshot frame (binary or JSON) into dst,
// reusing its memory; a delta frame needs the baseline it names (nil is fine
// for full snapshots). dst must not be base. On error dst is unspecified.
func DecodeSnapshot(data []byte, base, dst *Snapshot) error {
	if isJSON(data) {
		return decodeSnapshotJSON(data, dst)
	}
	if len(data) > MaxFrameSize {
		return fmt.Errorf("decode snapshot: %w: %d bytes", ErrFrameTooLarge, len(data))
	}
	if dst == base {
		return fmt.Errorf("decode snapshot: destination aliases the baseline")
	}
	h, err := PeekSnapshot(data)
	if err != nil {
		return fmt.Errorf("decode snapshot: %w", err)
	}
	var basePlayers []PlayerState
	var baseProjectiles []ProjectileState
	if h.HasBase {
		if base == nil || base.Tick != h.Baseline {
			return fmt.Errorf("decode snapshot %d: %w %d", h.Tick, ErrUnknownBaseline, h.Baseline)
		}
		basePlayers, baseProjectiles = base.Players, base.Projectiles
	}
	r := reader{b: data}
	r.byte()
	r.uvarint()
	r.uvarint()
	players, projectiles := dst.Players[:0], dst.Projectiles[:0]
	*dst = Snapshot{Tick: h.Tick}
	dst.AckSeq = r.u32("ack seq")
	dst.TicksLeft = r.u32("ticks left")
	state := r.byte()
	dst.Over = state&stateOver != 0
	dst.EndReason = arena.EndReason(state >> 1)
	if !dst.EndReason.Valid() {
		r.fail("end reason %d", dst.EndReason)
	}
	dst.Players = decodeSection(&r, basePlayers, players, &playerSpec, h.Tick)
	dst.Projectiles = decodeSection(&r, baseProjectiles, projectiles, &projectileSpec, h.Tick)
	if err := r.finish(); err != nil {
		return fmt.Errorf("decode snapshot %d: %w", h.Tick, err)
	}
	// A caller-supplied baseline could be out of order; never hand out a
	// snapshot that breaks the invariants.
	if err := dst.validate(); err != nil {
		return fmt.Errorf("decode snapshot %d: %w", h.Tick, err)
	}
	return nil
}

func (r *reader) u16count(what string, max int) int {
	n := int(r.u16())
	if n > max {
		r.fail("%d %s exceed the limit of %d", n, what, max)
		return 0
	}
	return n
}

// readID reads one ID of an ascending list.
func (r *reader) readID(prev uint32, first bool, maxID uint32) uint32 {
	v := r.uvarint()
	if !first {
		if v == 0 {
			r.fail("IDs not strictly ascending")
			return 0
		}
		v += uint64(prev)
	}
	if v > uint64(maxID) {
		r.fail("ID %d out of range", v)
		return 0
	}
	return uint32(v)
}

// idStream walks the removed-ID list of a section alongside the merge.
type idStream struct {
	r     reader
	left  int
	prev  uint32
	first bool
	cur   uint32
	ok    bool
	maxID uint32
}

func (s *idStream) advance() {
	if s.left == 0 {
		s.ok = false
		return
	}
	s.cur = s.r.readID(s.prev, s.first, s.maxID)
	s.prev, s.first, s.ok = s.cur, false, true
	s.left--
}

func decodeSection[E any, P entity[E]](r *reader, base, out []E, sp *spec, tick uint32) []E {
	// Validate the removed list and find where the changed list starts.
	nRemoved := r.u16count("removed entities", sp.maxCount)
	removedBytes := r.b
	prev := uint32(0)
	for k := 0; k < nRemoved && r.err == nil; k++ {
		prev = r.readID(prev, k == 0, sp.maxID)
	}
	if r.err != nil {
		return out
	}
	removed := idStream{r: reader{b: removedBytes[:len(removedBytes)-len(r.b)]}, left: nRemoved, first: true, maxID: sp.maxID}
	removed.advance()

	// keepBelow copies the baseline entities with IDs below limit, except
	// removed ones; a removal of an ID the baseline lacks is detected when
	// the merge passes it.
	bi := 0
	keepBelow := func(limit uint64) {
		for bi < len(base) {
			id := P(&base[bi]).key()
			if uint64(id) >= limit {
				return
			}
			if removed.ok && removed.cur < id {
				r.fail("removed ID %d not in baseline", removed.cur)
				return
			}
			if removed.ok && removed.cur == id {
				removed.advance()
			} else if len(out) < sp.maxCount {
				out = append(out, base[bi])
			} else {
				r.fail("more than %d entities", sp.maxCount)
				return
			}
			bi++
		}
	}

	nChanged := r.u16count("changed entities", sp.maxCount)
	var bf fields
	prev = 0
	for k := 0; k < nChanged && r.err == nil; k++ {
		id := r.readID(prev, k == 0, sp.maxID)
		prev = id
		keepBelow(uint64(id))
		if r.err != nil {
			break
		}
		if bi < len(base) && P(&base[bi]).key() == id {
			if removed.ok && removed.cur == id {
				r.fail("ID %d both removed and changed", id)
				break
			}
			bf = P(&base[bi]).load()
			bi++
		} else {
			bf = sp.blank(tick)
		}
		mask := r.uvarint()
		if mask>>sp.n != 0 {
			r.fail("field mask %#x has unknown bits", mask)
			break
		}
		for f := 0; f < sp.n; f++ {
			if mask&(1<<f) == 0 {
				continue
			}
			d := r.varint()
			// bf is within [lo,hi] (baseline or blank), so these bounds
			// cannot overflow, and neither can the sum.
			if d < sp.lo[f]-bf[f] || d > sp.hi[f]-bf[f] {
				r.fail("field %d out of range", f)
				break
			}
			bf[f] += d
		}
		if len(out) >= sp.maxCount {
			r.fail("more than %d entities", sp.maxCount)
			break
		}
		var e E
		P(&e).setKey(id)
		P(&e).store(bf)
		out = append(out, e)
	}
	if r.err != nil {
		return out
	}
	keepBelow(math.MaxUint32 + 1)
	if r.err == nil && removed.ok {
		r.fail("removed ID %d not in baseline", removed.cur)
	}
	if r.err == nil && removed.r.err != nil {
		r.err = removed.r.err
	}
	return out
}
