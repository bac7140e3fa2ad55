package netcode

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"time"
	"unicode/utf8"

	"github.com/atollgg/atoll/gameserver/arena"
)

// The JSON debug mode mirrors the binary frames with readable names, for
// browser tools and packet captures. Snapshots are always full.

type jsonInput struct {
	Seq   uint32  `json:"seq"`
	Tick  uint32  `json:"tick"`
	MoveX float32 `json:"move_x"`
	MoveY float32 `json:"move_y"`
	Aim   float32 `json:"aim"`
	Fire  bool    `json:"fire,omitempty"`
}

type jsonClientFrame struct {
	Kind       string      `json:"kind"`
	Inputs     []jsonInput `json:"inputs,omitempty"`
	Ack        *uint32     `json:"ack,omitempty"`
	PingID     uint32      `json:"ping_id,omitempty"`
	ClientTime uint64      `json:"client_time,omitempty"`
}

func appendClientJSON(dst []byte, f *ClientFrame) ([]byte, error) {
	j := jsonClientFrame{Kind: f.Kind.String()}
	switch f.Kind {
	case FrameInput:
		if n := len(f.Inputs); n == 0 || n > MaxInputsPerFrame {
			return dst, fmt.Errorf("encode input frame: %d inputs, want 1..%d", n, MaxInputsPerFrame)
		}
		for _, in := range f.Inputs {
			in = in.Quantized()
			j.Inputs = append(j.Inputs, jsonInput{Seq: in.Seq, Tick: in.Tick, MoveX: in.MoveX, MoveY: in.MoveY, Aim: in.Aim, Fire: in.Fire})
		}
		if f.HasAck {
			j.Ack = &f.AckTick
		}
	case FrameAck:
		j.Ack = &f.AckTick
	case FramePing:
		j.PingID, j.ClientTime = f.Ping.ID, f.Ping.ClientTime
	default:
		return dst, fmt.Errorf("encode client frame: %v is not a client frame", f.Kind)
	}
	return appendJSON(dst, j, MaxClientJSONFrameSize)
}

func decodeClientJSON(data []byte, dst *ClientFrame) error {
	if len(data) > MaxClientJSONFrameSize {
		return fmt.Errorf("decode client frame: %w: %d bytes", ErrFrameTooLarge, len(data))
	}
	var j jsonClientFrame
	if err := strictUnmarshal(data, &j); err != nil {
		return fmt.Errorf("decode client frame: %w", err)
	}
	*dst = ClientFrame{Inputs: dst.Inputs[:0]}
	switch j.Kind {
	case "input":
		dst.Kind = FrameInput
		if n := len(j.Inputs); n == 0 || n > MaxInputsPerFrame {
			return fmt.Errorf("decode client frame: %w: %d inputs, want 1..%d", ErrMalformed, n, MaxInputsPerFrame)
		}
		for i, ji := range j.Inputs {
			in := arena.Input{Seq: ji.Seq, Tick: ji.Tick, MoveX: ji.MoveX, MoveY: ji.MoveY, Aim: ji.Aim, Fire: ji.Fire}
			if in.Seq == 0 || (i > 0 && in.Seq <= dst.Inputs[i-1].Seq) {
				return fmt.Errorf("decode client frame: %w: input %d seq %d not positive and increasing", ErrMalformed, i, in.Seq)
			}
			// The binary form cannot express out-of-range values; neither
			// may the debug form.
			if math.Abs(float64(in.MoveX)) > 1 || math.Abs(float64(in.MoveY)) > 1 || math.Abs(float64(in.Aim)) > 2*math.Pi+1e-6 {
				return fmt.Errorf("decode client frame: %w: input %d values out of range", ErrMalformed, i)
			}
			dst.Inputs = append(dst.Inputs, in.Quantized())
		}
		if j.Ack != nil {
			dst.AckTick, dst.HasAck = *j.Ack, true
		}
	case "ack":
		if j.Ack == nil {
			return fmt.Errorf("decode client frame: %w: ack without tick", ErrMalformed)
		}
		dst.Kind, dst.AckTick, dst.HasAck = FrameAck, *j.Ack, true
	case "ping":
		dst.Kind, dst.Ping = FramePing, Ping{ID: j.PingID, ClientTime: j.ClientTime}
	default:
		return fmt.Errorf("decode client frame: %w: kind %q", ErrMalformed, j.Kind)
	}
	return nil
}

type jsonConfig struct {
	TickRate           int           `json:"tick_rate"`
	MaxPlayers         int           `json:"max_players"`
	Width              float64       `json:"width"`
	Height             float64       `json:"height"`
	Obstacles          []arena.Rect  `json:"obstacles"`
	PlayerRadius       float64       `json:"player_radius"`
	MaxSpeed           float64       `json:"max_speed"`
	MaxHealth          int           `json:"max_health"`
	ProjectileSpeed    float64       `json:"projectile_speed"`
	ProjectileRadius   float64       `json:"projectile_radius"`
	ProjectileDamage   int           `json:"projectile_damage"`
	ProjectileLifetime time.Duration `json:"projectile_lifetime_ns"`
	FireCooldown       time.Duration `json:"fire_cooldown_ns"`
	RespawnDelay       time.Duration `json:"respawn_delay_ns"`
	TimeLimit          time.Duration `json:"time_limit_ns"`
	ReconnectGrace     time.Duration `json:"reconnect_grace_ns"`
	ScoreLimit         int           `json:"score_limit"`
}

type jsonWelcome struct {
	Version uint32         `json:"version"`
	Player  arena.PlayerID `json:"player"`
	Tick    uint32         `json:"tick"`
	Config  jsonConfig     `json:"config"`
}

type jsonEvent struct {
	Kind   string         `json:"kind"`
	Tick   uint32         `json:"tick"`
	Player arena.PlayerID `json:"player"`
	Other  arena.PlayerID `json:"other"`
	Reason string         `json:"reason"`
}

type jsonKick struct {
	Reason string `json:"reason"`
	Detail string `json:"detail"`
}

type jsonServerFrame struct {
	Kind     string       `json:"kind"`
	Welcome  *jsonWelcome `json:"welcome,omitempty"`
	Snapshot *Snapshot    `json:"snapshot,omitempty"`
	Events   []jsonEvent  `json:"events,omitempty"`
	Kick     *jsonKick    `json:"kick,omitempty"`
	Pong     *Pong        `json:"pong,omitempty"`
}

func appendServerJSON(dst []byte, f *ServerFrame) ([]byte, error) {
	j := jsonServerFrame{Kind: f.Kind.String()}
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
		j.Welcome = &jsonWelcome{Version: w.Version, Player: w.Player, Tick: w.Tick, Config: jsonConfig{
			TickRate: c.TickRate, MaxPlayers: c.MaxPlayers, Width: c.Width, Height: c.Height, Obstacles: c.Obstacles,
			PlayerRadius: c.PlayerRadius, MaxSpeed: c.MaxSpeed, MaxHealth: c.MaxHealth,
			ProjectileSpeed: c.ProjectileSpeed, ProjectileRadius: c.ProjectileRadius, ProjectileDamage: c.ProjectileDamage,
			ProjectileLifetime: c.ProjectileLifetime, FireCooldown: c.FireCooldown, RespawnDelay: c.RespawnDelay,
			TimeLimit: c.TimeLimit, ReconnectGrace: c.ReconnectGrace, ScoreLimit: c.ScoreLimit,
		}}
	case FrameSnapshot:
		if f.Snapshot == nil {
			return dst, fmt.Errorf("encode snapshot frame: nil snapshot")
		}
		if err := f.Snapshot.validate(); err != nil {
			return dst, fmt.Errorf("encode snapshot: %w", err)
		}
		j.Snapshot = f.Snapshot
	case FrameEvents:
		if len(f.Events) > MaxEventsPerFrame {
			return dst, fmt.Errorf("encode events: %d events exceed %d", len(f.Events), MaxEventsPerFrame)
		}
		j.Events = make([]jsonEvent, 0, len(f.Events))
		for _, e := range f.Events {
			if err := checkEvent(e); err != nil {
				return dst, fmt.Errorf("encode events: %w", err)
			}
			j.Events = append(j.Events, jsonEvent{Kind: e.Kind.String(), Tick: e.Tick, Player: e.Player, Other: e.Other, Reason: e.Reason.String()})
		}
	case FrameKick:
		if !f.Kick.Reason.Valid() || len(f.Kick.Detail) > MaxKickDetail || !utf8.ValidString(f.Kick.Detail) {
			return dst, fmt.Errorf("encode kick: reason %d or detail invalid", f.Kick.Reason)
		}
		j.Kick = &jsonKick{Reason: f.Kick.Reason.String(), Detail: f.Kick.Detail}
	case FramePong:
		p := f.Pong
		j.Pong = &p
	default:
		return dst, fmt.Errorf("encode server frame: %v is not a server frame", f.Kind)
	}
	return appendJSON(dst, j, MaxJSONFrameSize)
}

// decodeServerJSON decodes a JSON server frame; a snapshot lands in snap.
func decodeServerJSON(data []byte, dst *ServerFrame, snap *Snapshot) error {
	j := jsonServerFrame{Snapshot: snap}
	players, projectiles := snap.Players[:0], snap.Projectiles[:0]
	*snap = Snapshot{Players: players, Projectiles: projectiles}
	if err := strictUnmarshal(data, &j); err != nil {
		return fmt.Errorf("decode server frame: %w", err)
	}
	bad := func(format string, args ...any) error {
		return fmt.Errorf("decode server frame: %w: %s", ErrMalformed, fmt.Sprintf(format, args...))
	}
	switch j.Kind {
	case "welcome":
		if j.Welcome == nil {
			return bad("welcome without body")
		}
		jw := j.Welcome
		c := jw.Config
		if c.Obstacles == nil {
			c.Obstacles = []arena.Rect{}
		}
		dst.Kind = FrameWelcome
		dst.Welcome = Welcome{Version: jw.Version, Player: jw.Player, Tick: jw.Tick, Config: arena.Config{
			TickRate: c.TickRate, MaxPlayers: c.MaxPlayers, Width: c.Width, Height: c.Height, Obstacles: c.Obstacles,
			PlayerRadius: c.PlayerRadius, MaxSpeed: c.MaxSpeed, MaxHealth: c.MaxHealth,
			ProjectileSpeed: c.ProjectileSpeed, ProjectileRadius: c.ProjectileRadius, ProjectileDamage: c.ProjectileDamage,
			ProjectileLifetime: c.ProjectileLifetime, FireCooldown: c.FireCooldown, RespawnDelay: c.RespawnDelay,
			TimeLimit: c.TimeLimit, ReconnectGrace: c.ReconnectGrace, ScoreLimit: c.ScoreLimit,
		}}
		if int(jw.Player) >= arena.MaxPlayers {
			return bad("player %d out of range", jw.Player)
		}
		if err := dst.Welcome.Config.Validate(); err != nil {
			return bad("welcome config: %v", err)
		}
	case "snapshot":
		if j.Snapshot == nil {
			return bad("snapshot without body")
		}
		if err := snap.validate(); err != nil {
			return fmt.Errorf("decode server frame: %w", err)
		}
		dst.Kind = FrameSnapshot
	case "events":
		if len(j.Events) > MaxEventsPerFrame {
			return bad("%d events exceed %d", len(j.Events), MaxEventsPerFrame)
		}
		dst.Kind, dst.Events = FrameEvents, dst.Events[:0]
		for _, je := range j.Events {
			e := arena.Event{Kind: parseEventKind(je.Kind), Tick: je.Tick, Player: je.Player, Other: je.Other, Reason: parseEndReason(je.Reason)}
			if err := checkEvent(e); err != nil || (je.Reason != arena.EndNone.String() && e.Reason == arena.EndNone) {
				return bad("event %+v", je)
			}
			dst.Events = append(dst.Events, e)
		}
	case "kick":
		if j.Kick == nil {
			return bad("kick without body")
		}
		dst.Kind, dst.Kick = FrameKick, Kick{Reason: parseKickReason(j.Kick.Reason), Detail: j.Kick.Detail}
		if !dst.Kick.Reason.Valid() || len(dst.Kick.Detail) > MaxKickDetail {
			return bad("kick %+v", j.Kick)
		}
	case "pong":
		if j.Pong == nil {
			return bad("pong without body")
		}
		dst.Kind, dst.Pong = FramePong, *j.Pong
	default:
		return bad("kind %q", j.Kind)
	}
	return nil
}

// decodeSnapshotJSON decodes a JSON snapshot frame into dst.
func decodeSnapshotJSON(data []byte, dst *Snapshot) error {
	if len(data) > MaxJSONFrameSize {
		return fmt.Errorf("decode snapshot: %w: %d bytes", ErrFrameTooLarge, len(data))
	}
	var f ServerFrame
	if err := decodeServerJSON(data, &f, dst); err != nil {
		return err
	}
	if f.Kind != FrameSnapshot {
		return fmt.Errorf("decode snapshot: %w: %v frame", ErrMalformed, f.Kind)
	}
	return nil
}

func parseEventKind(s string) arena.EventKind {
	for k := arena.EventJoin; k <= arena.EventMatchEnd; k++ {
		if k.String() == s {
			return k
		}
	}
	return 0
}

func parseEndReason(s string) arena.EndReason {
	for r := arena.EndNone; r <= arena.EndTimeLimit; r++ {
		if r.String() == s {
			return r
		}
	}
	return arena.EndNone
}

func parseKickReason(s string) KickReason {
	for k := KickViolations; k <= KickIdle; k++ {
		if k.String() == s {
			return k
		}
	}
	return 0
}

func appendJSON(dst []byte, v any, limit int) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return dst, fmt.Errorf("encode JSON frame: %w", err)
	}
	if len(b) > limit {
		return dst, fmt.Errorf("encode JSON frame: %w: %d bytes", ErrFrameTooLarge, len(b))
	}
	return append(dst, b...), nil
}

// strictUnmarshal decodes exactly one JSON object with no unknown fields and
// nothing after it.
func strictUnmarshal(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return fmt.Errorf("%w: trailing data after JSON frame", ErrMalformed)
	}
	return nil
}
