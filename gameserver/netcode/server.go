package netcode

import (
	"encoding/binary"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/atollgg/atoll/gameserver/arena"
)

// Welcome is the first frame a client receives: who it is and the rules it
// must predict with.
type Welcome struct {
	Version uint32
	Player  arena.PlayerID
	// Tick is the server tick at the time of joining.
	Tick uint32
	// Config carries the gameplay fields of the match configuration (tick
	// rate, world, weapon, limits); the seed and anti-cheat settings stay
	// on the server and decode as zero (their defaults).
	Config arena.Config
}

// KickReason says why the server closed a connection.
type KickReason uint8

const (
	KickViolations KickReason = iota + 1
	KickProtocolError
	KickDuplicateLogin
	KickServerShutdown
	KickIdle
)

func (k KickReason) String() string {
	switch k {
	case KickViolations:
		return "violations"
	case KickProtocolError:
		return "protocol_error"
	case KickDuplicateLogin:
		return "duplicate_login"
	case KickServerShutdown:
		return "server_shutdown"
	case KickIdle:
		return "idle"
	}
	return "unknown"
}

// Valid reports whether k is a known reason.
func (k KickReason) Valid() bool { return k >= KickViolations && k <= KickIdle }

// Kick tells a client why it is being disconnected.
type Kick struct {
	Reason KickReason
	Detail string // at most MaxKickDetail bytes of UTF-8, for humans
}

// Pong echoes a Ping with the server's tick.
type Pong struct {
	ID         uint32 `json:"id"`
	ClientTime uint64 `json:"client_time"`
	ServerTick uint32 `json:"server_tick"`
}

// ServerFrame is any server→client frame; Kind says which field matters.
type ServerFrame struct {
	Kind    FrameKind
	Welcome Welcome
	// Snapshot is the reconstructed state; when decoded by a ClientConn it
	// is owned by the conn and valid until HistorySize later snapshots.
	Snapshot *Snapshot
	Events   []arena.Event
	Kick     Kick
	Pong     Pong
}

// AppendServerFrame encodes f onto dst. Snapshots are encoded in full; use
// ServerConn.AppendSnapshot for delta compression.
func AppendServerFrame(dst []byte, enc Encoding, f *ServerFrame) ([]byte, error) {
	if enc == JSON {
		return appendServerJSON(dst, f)
	}
	start := len(dst)
	switch f.Kind {
	case FrameWelcome:
		w := &f.Welcome
		if int(w.Player) >= arena.MaxPlayers {
			return dst, fmt.Errorf("encode welcome: player %d out of range", w.Player)
		}
		if err := w.Config.Validate(); err != nil {
			return dst, fmt.Errorf("encode welcome: %w", err)
		}
		c := w.Config.WithDefaults()
		dst = append(dst, byte(FrameWelcome))
		dst = binary.AppendUvarint(dst, uint64(w.Version))
		dst = append(dst, byte(w.Player))
		dst = binary.AppendUvarint(dst, uint64(w.Tick))
		dst = binary.AppendUvarint(dst, uint64(c.TickRate))
		dst = binary.AppendUvarint(dst, uint64(c.MaxPlayers))
		dst = appendF64(dst, c.Width)
		dst = appendF64(dst, c.Height)
		dst = binary.AppendUvarint(dst, uint64(len(c.Obstacles)))
		for _, o := range c.Obstacles {
			dst = appendF64(appendF64(appendF64(appendF64(dst, o.Min.X), o.Min.Y), o.Max.X), o.Max.Y)
		}
		dst = appendF64(dst, c.PlayerRadius)
		dst = appendF64(dst, c.MaxSpeed)
		dst = binary.AppendUvarint(dst, uint64(c.MaxHealth))
		dst = appendF64(dst, c.ProjectileSpeed)
		dst = appendF64(dst, c.ProjectileRadius)
		dst = binary.AppendUvarint(dst, uint64(c.ProjectileDamage))
		for _, d := range []time.Duration{c.ProjectileLifetime, c.FireCooldown, c.RespawnDelay, c.TimeLimit, c.ReconnectGrace} {
			dst = binary.AppendUvarint(dst, uint64(d))
		}
		dst = binary.AppendUvarint(dst, uint64(c.ScoreLimit))
	case FrameSnapshot:
		if f.Snapshot == nil {
			return dst, fmt.Errorf("encode snapshot frame: nil snapshot")
		}
		return AppendSnapshot(dst, f.Snapshot, nil, f.Snapshot.AckSeq)
	case FrameEvents:
		if len(f.Events) > MaxEventsPerFrame {
			return dst, fmt.Errorf("encode events: %d events exceed %d", len(f.Events), MaxEventsPerFrame)
		}
		dst = append(dst, byte(FrameEvents))
		dst = binary.AppendUvarint(dst, uint64(len(f.Events)))
		for _, e := range f.Events {
			if err := checkEvent(e); err != nil {
				return dst[:start], fmt.Errorf("encode events: %w", err)
			}
			dst = append(dst, byte(e.Kind))
			dst = binary.AppendUvarint(dst, uint64(e.Tick))
			dst = append(dst, byte(e.Player), byte(e.Other), byte(e.Reason))
		}
	case FrameKick:
		if !f.Kick.Reason.Valid() || len(f.Kick.Detail) > MaxKickDetail || !utf8.ValidString(f.Kick.Detail) {
			return dst, fmt.Errorf("encode kick: reason %d or detail invalid", f.Kick.Reason)
		}
		dst = append(dst, byte(FrameKick), byte(f.Kick.Reason))
		dst = binary.AppendUvarint(dst, uint64(len(f.Kick.Detail)))
		dst = append(dst, f.Kick.Detail...)
	case FramePong:
		dst = append(dst, byte(FramePong))
		dst = binary.AppendUvarint(dst, uint64(f.Pong.ID))
		dst = binary.AppendUvarint(dst, f.Pong.ClientTime)
		dst = binary.AppendUvarint(dst, uint64(f.Pong.ServerTick))
	default:
		return dst, fmt.Errorf("encode server frame: %v is not a server frame", f.Kind)
	}
	if len(dst)-start > MaxFrameSize {
		return dst[:start], fmt.Errorf("encode server frame: %w", ErrFrameTooLarge)
	}
	return dst, nil
}

func checkPlayerRef(p arena.PlayerID) bool { return int(p) < arena.MaxPlayers || p == arena.NoPlayer }

func checkEvent(e arena.Event) error {
	if !e.Kind.Valid() || !e.Reason.Valid() || !checkPlayerRef(e.Player) || !checkPlayerRef(e.Other) {
		return fmt.Errorf("%w: event %+v", ErrMalformed, e)
	}
	return nil
}

// decodeServerFrame decodes every binary server frame but snapshots, which
// need a baseline (see ClientConn).
func decodeServerFrame(data []byte, dst *ServerFrame) error {
	r := reader{b: data}
	dst.Kind = FrameKind(r.byte())
	switch dst.Kind {
	case FrameWelcome:
		w := &dst.Welcome
		*w = Welcome{}
		w.Version = r.u32("version")
		w.Player = arena.PlayerID(r.byte())
		if int(w.Player) >= arena.MaxPlayers {
			r.fail("player %d out of range", w.Player)
		}
		w.Tick = r.u32("tick")
		c := &w.Config
		c.TickRate = r.count("tick rate", arena.MaxTickRate)
		c.MaxPlayers = r.count("max players", arena.MaxPlayers)
		c.Width, c.Height = r.f64(), r.f64()
		n := r.count("obstacles", arena.MaxObstacles)
		c.Obstacles = make([]arena.Rect, 0, n)
		for i := 0; i < n && r.err == nil; i++ {
			c.Obstacles = append(c.Obstacles, arena.Rect{Min: arena.Vec2{X: r.f64(), Y: r.f64()}, Max: arena.Vec2{X: r.f64(), Y: r.f64()}})
		}
		c.PlayerRadius, c.MaxSpeed = r.f64(), r.f64()
		c.MaxHealth = r.count("max health", arena.MaxHealthLimit)
		c.ProjectileSpeed, c.ProjectileRadius = r.f64(), r.f64()
		c.ProjectileDamage = r.count("projectile damage", arena.MaxHealthLimit)
		for _, d := range []*time.Duration{&c.ProjectileLifetime, &c.FireCooldown, &c.RespawnDelay, &c.TimeLimit, &c.ReconnectGrace} {
			*d = time.Duration(r.count("duration", int(arena.MaxTimeLimit)))
		}
		c.ScoreLimit = r.count("score limit", arena.MaxScoreLimit)
		if r.err == nil {
			if err := c.Validate(); err != nil {
				r.fail("welcome config: %v", err)
			}
		}
	case FrameEvents:
		n := r.count("events", MaxEventsPerFrame)
		dst.Events = dst.Events[:0]
		for i := 0; i < n && r.err == nil; i++ {
			e := arena.Event{Kind: arena.EventKind(r.byte()), Tick: r.u32("tick")}
			e.Player, e.Other, e.Reason = arena.PlayerID(r.byte()), arena.PlayerID(r.byte()), arena.EndReason(r.byte())
			if err := checkEvent(e); err != nil && r.err == nil {
				r.fail("event %d: %v", i, err)
			}
			dst.Events = append(dst.Events, e)
		}
	case FrameKick:
		dst.Kick.Reason = KickReason(r.byte())
		n := r.count("kick detail bytes", MaxKickDetail)
		detail := r.bytes(n)
		if r.err == nil && (!dst.Kick.Reason.Valid() || !utf8.Valid(detail)) {
			r.fail("kick reason %d or detail invalid", dst.Kick.Reason)
		}
		dst.Kick.Detail = string(detail)
	case FramePong:
		dst.Pong = Pong{ID: r.u32("pong id"), ClientTime: r.uvarint(), ServerTick: r.u32("server tick")}
	default:
		r.fail("%v is not a server frame", dst.Kind)
	}
	if err := r.finish(); err != nil {
		return fmt.Errorf("decode %v frame: %w", dst.Kind, err)
	}
	return nil
}
