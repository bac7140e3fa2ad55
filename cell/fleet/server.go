package fleet

import (
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/atollgg/atoll/gameserver/sdk"
)

// State is a game server's lifecycle state (the SDK contract's).
type State = sdk.State

// Server states; see sdk.State.
const (
	StateStarting  = sdk.StateStarting
	StateReady     = sdk.StateReady
	StateAllocated = sdk.StateAllocated
	StateShutdown  = sdk.StateShutdown
	StateUnhealthy = sdk.StateUnhealthy
)

// ServerInfo describes one game server, for status pages and metrics.
type ServerInfo struct {
	ID    string
	State State
	Host  string
	Port  int
	// PID is the process id of a local server; zero for other backends.
	PID int
	// SessionID is the session the server plays; empty unless allocated.
	SessionID string
	// Connected are the players currently connected, as the server reports.
	Connected []string
	// Active reports that the game has started.
	Active        bool
	CreatedAt     time.Time
	ReadyAt       time.Time
	AllocatedAt   time.Time
	LastHeartbeat time.Time
	// Adopted reports that this fleet re-adopted the server from a previous
	// run rather than starting it.
	Adopted bool
}

// server is one game server as the fleet tracks it.
type server struct {
	id         string
	secretHash [32]byte
	host       string
	port       int
	createdAt  time.Time
	adopted    bool
	// lastBeat is the unix-nano time of the server's last SDK call.
	lastBeat atomic.Int64

	kvMu    sync.Mutex // guards removed and orders this server's KV writes
	removed bool

	// Fields below are guarded by Fleet.mu.
	proc        Process // nil until the backend has started it
	state       State
	reserved    bool // being allocated: out of the ready list, still Ready, alloc not yet set
	readyAt     time.Time
	allocatedAt time.Time
	alloc       *sdk.Allocation
	active      bool
	results     *Results
	connected   map[string]bool
	outcome     *outcome
	outcomeSent bool
	exited      bool
	stopAt      time.Time // when it was asked to stop; killed StopGrace later
	killed      bool
	keepLog     bool          // something went wrong: keep its log file
	changed     chan struct{} // closed (and replaced) at every state change
}

func (s *server) beat(now time.Time) { s.lastBeat.Store(now.UnixNano()) }

// notifyLocked wakes the server's allocation long-polls.
func (s *server) notifyLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

func (s *server) playerIDsLocked() []string {
	if s.alloc == nil {
		return nil
	}
	ids := make([]string, len(s.alloc.Players))
	for i, p := range s.alloc.Players {
		ids[i] = p.ID
	}
	return ids
}

func (s *server) infoLocked() ServerInfo {
	info := ServerInfo{
		ID: s.id, State: s.state, Host: s.host, Port: s.port,
		Active: s.active, CreatedAt: s.createdAt, ReadyAt: s.readyAt, AllocatedAt: s.allocatedAt,
		LastHeartbeat: time.Unix(0, s.lastBeat.Load()), Adopted: s.adopted,
	}
	if s.proc != nil {
		info.PID = s.proc.Ref().PID
	}
	if s.alloc != nil {
		info.SessionID = s.alloc.SessionID
	}
	for id := range s.connected {
		info.Connected = append(info.Connected, id)
	}
	slices.Sort(info.Connected)
	return info
}

func (s *server) recordLocked() *record {
	rec := &record{
		ID: s.id, State: s.state, Host: s.host, Port: s.port,
		SecretHash: s.secretHash[:], CreatedAt: s.createdAt, ReadyAt: s.readyAt, AllocatedAt: s.allocatedAt,
		Allocation: s.alloc, Active: s.active, Results: s.results, Outcome: s.outcome, OutcomeSent: s.outcomeSent,
	}
	if s.proc != nil {
		rec.Proc = s.proc.Ref()
	}
	return rec
}

// terminalEventLocked is the event announcing s's outcome.
func (s *server) terminalEventLocked() Event {
	ev := Event{
		Kind:     s.outcome.Kind,
		ServerID: s.id,
		Players:  s.playerIDsLocked(),
		Reason:   s.outcome.Reason,
		At:       s.outcome.At,
	}
	if s.alloc != nil {
		ev.SessionID = s.alloc.SessionID
	}
	if s.outcome.Kind == EventSessionEnded {
		ev.Results = s.results
	}
	return ev
}
