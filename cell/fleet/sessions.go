package fleet

import (
	"time"
)

// SessionFate is what the fleet knows of a session's server, for the cell
// to reconcile the sessions it recorded with the servers that play them.
type SessionFate int

// Session fates.
const (
	// SessionGone: no server of the fleet plays the session or remembers
	// its outcome (its server vanished, with its record).
	SessionGone SessionFate = iota
	// SessionRunning: a server is allocated to the session (or being
	// allocated) and its game is not over.
	SessionRunning
	// SessionOver: the session's server decided its outcome; the event
	// returned with it is the terminal event.
	SessionOver
)

// Session reports the fate of a session and, when it is over, its terminal
// event (the same one the fleet emits). Call it after Start: adopted
// servers are known then.
func (f *Fleet) Session(sessionID string) (Event, SessionFate) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	if s := f.sessions[sessionID]; s != nil && s.outcome == nil {
		return Event{}, SessionRunning
	}
	for _, s := range f.servers {
		if s.alloc != nil && s.alloc.SessionID == sessionID && s.outcome != nil {
			return s.terminalEventLocked(), SessionOver
		}
	}
	return Event{}, SessionGone
}

// Release gives up the allocation of a session its caller could not
// record: the server is asked to stop and the session fails. Releasing a
// session the fleet does not run, or whose game is over, does nothing.
func (f *Fleet) Release(sessionID, reason string) {
	now := time.Now()
	f.mu.Lock()
	s := f.sessions[sessionID]
	if s == nil || s.alloc == nil || s.outcome != nil || s.exited {
		f.mu.Unlock()
		return
	}
	f.stopLocked(s, now)
	f.decideOutcomeLocked(s, reason, now)
	f.mu.Unlock()
	f.save(s)
	f.signal(s, false)
	f.poke()
	f.log.Info("released allocation", "server", s.id, "session", sessionID, "reason", reason)
}
