// Package netcode owns the arena's wire format: compact binary frames (and a JSON debug mode), delta-compressed snapshots and the per-connection snapshot bookkeeping on both ends.
package netcode

// Binary frames start with a FrameKind byte; JSON debug frames start with
// '{' and every decoder recognises them. All decoders are bounded (frame
// size, entity and input counts) and return errors, never panic, on any
// input. Nothing here does I/O or locking: a server keeps one History per
// match and one ServerConn per client on the match goroutine; a client keeps
// one ClientConn.

import "github.com/atollgg/atoll/gameserver/arena"

// ProtocolVersion is sent in Welcome; a client must refuse a version it does
// not speak.
const ProtocolVersion = 1

// Limits on every frame. Encoders refuse to exceed them and decoders reject
// anything beyond them before allocating.
const (
	// MaxFrameSize bounds any binary server frame. A worst-case full snapshot
	// (64 players and 1024 projectiles at maximum varint widths) is ~34 KiB
	// (TestWorstCaseSnapshotFitsFrame); 64 KiB leaves headroom without
	// letting one frame pin much memory.
	MaxFrameSize = 64 << 10
	// MaxClientFrameSize bounds binary client frames, which a server reads
	// from untrusted peers: MaxInputsPerFrame inputs at their widest fit in
	// well under 1 KiB.
	MaxClientFrameSize = 1 << 10
	// MaxJSONFrameSize bounds JSON debug frames in both directions; a full
	// JSON snapshot is roughly four times its binary form.
	MaxJSONFrameSize = 256 << 10
	// MaxClientJSONFrameSize bounds JSON client frames read by the server.
	MaxClientJSONFrameSize = 16 << 10
	// MaxInputsPerFrame bounds the redundant inputs batched in one input
	// frame: a second of inputs at the default 30 Hz covers any loss burst
	// worth surviving.
	MaxInputsPerFrame = 32
	// MaxPlayersPerSnapshot and MaxProjectilesPerSnapshot follow the
	// simulation's own caps.
	MaxPlayersPerSnapshot     = arena.MaxPlayers
	MaxProjectilesPerSnapshot = arena.MaxProjectiles
	// MaxEventsPerFrame bounds one events frame; a server sends events every
	// tick, when a handful at most have happened.
	MaxEventsPerFrame = 256
	// MaxKickDetail bounds the human-readable text of a kick.
	MaxKickDetail = 200
	// HistorySize is how many ticks of snapshots serve as delta baselines:
	// ~1 s at 60 Hz. A client whose newest ack is older than that is so far
	// behind that a full snapshot costs about the same as a delta.
	HistorySize = 64
)

// PositionScale is the quantization of positions (units) and velocities
// (units/s): 1/16 unit is below a pixel at any sensible zoom.
const PositionScale = 16
