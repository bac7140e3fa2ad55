package arena

import "time"

// rewindTicks is MaxRewind in whole ticks, rounded down so a rewind never
// exceeds the bound.
func rewindTicks(tickRate int) uint32 {
	return uint32(int64(MaxRewind) * int64(tickRate) / int64(time.Second))
}

// histFrame is every seat's position and liveness at the end of one tick.
type histFrame struct {
	tick  uint32
	valid bool
	alive uint64 // bit i: seat i alive
	pos   [MaxPlayers]Vec2
}

// history is the lag-compensation ring: the last rewindTicks+1 ticks, which
// is exactly what a shot clamped to MaxRewind can ask for.
type history struct {
	frames []histFrame
}

func newHistory(tickRate int) history {
	return history{frames: make([]histFrame, rewindTicks(tickRate)+1)}
}

func (h *history) record(tick uint32, players *[MaxPlayers]player) {
	f := &h.frames[tick%uint32(len(h.frames))]
	f.tick, f.valid, f.alive = tick, true, 0
	for i := range players {
		p := &players[i]
		f.pos[i] = p.pos
		if p.alive {
			f.alive |= 1 << i
		}
	}
}

// at returns the frame of tick, or nil when it has left the ring (or the
// world is younger than that).
func (h *history) at(tick uint32) *histFrame {
	f := &h.frames[tick%uint32(len(h.frames))]
	if !f.valid || f.tick != tick {
		return nil
	}
	return f
}
