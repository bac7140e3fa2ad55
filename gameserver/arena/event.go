package arena

// EventKind classifies a match event.
type EventKind uint8

const (
	// EventJoin: Player joined or reconnected.
	EventJoin EventKind = iota + 1
	// EventLeave: Player disconnected; their slot waits ReconnectGrace.
	EventLeave
	// EventKill: Player killed Other.
	EventKill
	// EventKick: Player was kicked for violations (or by World.Kick); the
	// transport should tell the client and close the connection.
	EventKick
	// EventMatchEnd: the match is over for Reason; Player is the winner,
	// NoPlayer when nobody is seated.
	EventMatchEnd
)

func (k EventKind) String() string {
	switch k {
	case EventJoin:
		return "join"
	case EventLeave:
		return "leave"
	case EventKill:
		return "kill"
	case EventKick:
		return "kick"
	case EventMatchEnd:
		return "match_end"
	}
	return "unknown"
}

// Valid reports whether k is a known kind.
func (k EventKind) Valid() bool { return k >= EventJoin && k <= EventMatchEnd }

// EndReason says why a match ended.
type EndReason uint8

const (
	EndNone EndReason = iota
	EndScoreLimit
	EndTimeLimit
)

func (r EndReason) String() string {
	switch r {
	case EndNone:
		return "none"
	case EndScoreLimit:
		return "score_limit"
	case EndTimeLimit:
		return "time_limit"
	}
	return "unknown"
}

// Valid reports whether r is a known reason.
func (r EndReason) Valid() bool { return r <= EndTimeLimit }

// Event is something the server tells clients and telemetry about.
type Event struct {
	Kind   EventKind
	Tick   uint32
	Player PlayerID
	Other  PlayerID  // the victim of EventKill, else NoPlayer
	Reason EndReason // EventMatchEnd only
}

// maxPendingEvents bounds the undrained event queue; a match produces a few
// events per second, so 4096 only fills if the server stops draining.
const maxPendingEvents = 4096
