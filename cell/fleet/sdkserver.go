package fleet

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"io"
	"net/http"
	"time"

	"github.com/atollgg/atoll/gameserver/sdk"
	"github.com/atollgg/atoll/internal/httpx"
)

// sdkHandler serves the SDK API (documented in gameserver/sdk/README.md).
func (f *Fleet) sdkHandler() http.Handler {
	mux := http.NewServeMux()
	route := func(pattern string, fn func(http.ResponseWriter, *http.Request, *server) error) {
		mux.Handle(pattern, httpx.Handle(f.log, func(w http.ResponseWriter, r *http.Request) error {
			s, err := f.authenticate(r)
			if err != nil {
				return err
			}
			return fn(w, r, s)
		}))
	}
	route("POST "+sdk.PathHealth, f.handleHealth)
	route("POST "+sdk.PathReady, f.handleReady)
	route("GET "+sdk.PathAllocation, f.handleAllocation)
	route("POST "+sdk.PathActive, f.handleActive)
	route("POST "+sdk.PathPlayerConnected, f.handlePlayer(true))
	route("POST "+sdk.PathPlayerDisconnected, f.handlePlayer(false))
	route("POST "+sdk.PathResults, f.handleResults)
	route("POST "+sdk.PathShutdown, f.handleShutdown)
	route("POST "+sdk.PathTelemetry, f.handleTelemetry)
	return httpx.Recover(f.log, httpx.AccessLog(f.log, httpx.JSONFallback(mux)))
}

// authenticate finds the calling server and checks its secret in constant
// time; every authenticated call counts as a heartbeat.
func (f *Fleet) authenticate(r *http.Request) (*server, error) {
	id := r.Header.Get(sdk.HeaderServerID)
	secret, ok := httpx.BearerToken(r)
	if !ok || id == "" {
		return nil, httpx.Unauthenticated("missing server id or secret")
	}
	f.mu.RLock()
	s := f.servers[id]
	f.mu.RUnlock()
	var want [sha256.Size]byte
	if s != nil {
		want = s.secretHash
	}
	got := sha256.Sum256([]byte(secret))
	// Compared even for an unknown id, so timing tells nothing.
	if subtle.ConstantTimeCompare(got[:], want[:]) != 1 || s == nil {
		return nil, httpx.Unauthenticated("unknown server or wrong secret")
	}
	s.beat(time.Now())
	return s, nil
}

func (f *Fleet) stateOf(s *server) State {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return s.state
}

func writeState(w http.ResponseWriter, st State) error {
	httpx.WriteJSON(w, http.StatusOK, sdk.StateResponse{State: st})
	return nil
}

func (f *Fleet) handleHealth(w http.ResponseWriter, r *http.Request, s *server) error {
	if err := drainBody(w, r); err != nil {
		return err
	}
	return writeState(w, f.stateOf(s))
}

func (f *Fleet) handleReady(w http.ResponseWriter, r *http.Request, s *server) error {
	if err := drainBody(w, r); err != nil {
		return err
	}
	// Ready is made durable before it is visible, as allocations are:
	// a server listed Ready can be allocated at once, with no write of its
	// own in flight. s.kvMu orders this write with the server's others.
	s.kvMu.Lock()
	defer s.kvMu.Unlock()
	f.mu.RLock()
	st, rec := s.state, s.recordLocked()
	f.mu.RUnlock()
	if st != StateStarting || s.removed {
		return writeState(w, st) // a repeated call, or too late
	}
	now := time.Now()
	rec.State, rec.ReadyAt = StateReady, now
	if err := f.putRecordLocked(r.Context(), s, rec); err != nil {
		f.log.Error("persist ready game server", "server", s.id, "err", err)
		return httpx.Unavailable("cannot record the server's state; retry")
	}
	f.mu.Lock()
	if s.state == StateStarting && !s.exited {
		s.state = StateReady
		s.readyAt = now
		f.ready = append(f.ready, s)
		f.startFailures = 0
		f.nextStartAt = time.Time{}
		s.notifyLocked()
	}
	st = s.state
	f.mu.Unlock()
	f.log.Info("game server ready", "server", s.id)
	return writeState(w, st)
}

// parseWait reads the long-poll duration: absent means answer at once;
// more than sdk.MaxWait is clamped.
func parseWait(v string) (time.Duration, error) {
	if v == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		return 0, httpx.BadRequest("%s must be a non-negative duration such as 20s", sdk.WaitParam)
	}
	return min(d, sdk.MaxWait), nil
}

func (f *Fleet) handleAllocation(w http.ResponseWriter, r *http.Request, s *server) error {
	wait, err := parseWait(r.URL.Query().Get(sdk.WaitParam))
	if err != nil {
		return err
	}
	timer := time.NewTimer(wait)
	defer timer.Stop()
	expired := wait == 0
	for {
		f.mu.RLock()
		st, alloc, changed := s.state, s.alloc, s.changed
		f.mu.RUnlock()
		switch {
		case st == StateAllocated && alloc != nil:
			httpx.WriteJSON(w, http.StatusOK, sdk.AllocationResponse{State: st, Allocation: alloc})
			return nil
		case st == StateShutdown || st == StateUnhealthy || expired:
			httpx.WriteJSON(w, http.StatusOK, sdk.AllocationResponse{State: st})
			return nil
		}
		select {
		case <-changed:
		case <-timer.C:
			expired = true
		case <-r.Context().Done():
			return nil // the server hung up; nobody to answer
		case <-f.runCtx.Done():
			return httpx.Unavailable("cell is restarting; retry")
		}
	}
}

// errNotAllocated answers calls that only make sense during a session.
var errNotAllocated = httpx.Conflict(httpx.CodeConflict, "server is not allocated")

func (f *Fleet) handleActive(w http.ResponseWriter, r *http.Request, s *server) error {
	if err := drainBody(w, r); err != nil {
		return err
	}
	f.mu.Lock()
	if s.state != StateAllocated {
		f.mu.Unlock()
		return errNotAllocated
	}
	first := !s.active
	if first {
		s.active = true
		f.events.push(Event{Kind: EventSessionActive, SessionID: s.alloc.SessionID, ServerID: s.id, Players: s.playerIDsLocked(), At: time.Now()}, nil)
	}
	f.mu.Unlock()
	if first {
		f.save(s)
	}
	return writeState(w, StateAllocated)
}

func (f *Fleet) handlePlayer(connected bool) func(http.ResponseWriter, *http.Request, *server) error {
	kind := EventPlayerDisconnected
	if connected {
		kind = EventPlayerConnected
	}
	return func(w http.ResponseWriter, r *http.Request, s *server) error {
		var body sdk.PlayerEvent
		if err := decodeRequest(w, r, &body, sdk.MaxSmallBody); err != nil {
			return err
		}
		f.mu.Lock()
		if s.alloc == nil || (s.state != StateAllocated && s.state != StateShutdown) {
			f.mu.Unlock()
			return errNotAllocated
		}
		if !s.alloc.HasPlayer(body.PlayerID) {
			f.mu.Unlock()
			return httpx.BadRequest("player is not in the match")
		}
		// After the session's outcome nothing more is reported: its
		// terminal event stays its last.
		if s.outcome == nil && s.connected[body.PlayerID] != connected {
			if connected {
				s.connected[body.PlayerID] = true
			} else {
				delete(s.connected, body.PlayerID)
			}
			f.events.push(Event{Kind: kind, SessionID: s.alloc.SessionID, ServerID: s.id, PlayerID: body.PlayerID, At: time.Now()}, nil)
		}
		st := s.state
		f.mu.Unlock()
		return writeState(w, st)
	}
}

func (f *Fleet) handleResults(w http.ResponseWriter, r *http.Request, s *server) error {
	var body sdk.Results
	if err := decodeRequest(w, r, &body, sdk.MaxResultsBody); err != nil {
		return err
	}
	// Results are made durable before they are accepted, as Ready is: the
	// server forgets them once answered 200, so a failed write answers 503
	// and the server retries. s.kvMu orders this write with the server's
	// others.
	s.kvMu.Lock()
	defer s.kvMu.Unlock()
	f.mu.Lock()
	if s.state != StateAllocated || s.outcome != nil || s.removed {
		f.mu.Unlock()
		return errNotAllocated
	}
	res, herr := resultsFor(s.alloc, &body)
	if herr != nil {
		f.mu.Unlock()
		return herr
	}
	if s.results != nil {
		same := sameResults(s.results, res)
		f.mu.Unlock()
		if !same {
			return httpx.Conflict(httpx.CodeAlreadyExists, "different results were already reported")
		}
		return writeState(w, StateAllocated)
	}
	rec := s.recordLocked()
	rec.Results = res
	f.mu.Unlock()
	if err := f.putRecordLocked(r.Context(), s, rec); err != nil {
		f.log.Error("persist session results", "server", s.id, "session", res.SessionID, "err", err)
		return httpx.Unavailable("cannot record the results; retry")
	}
	f.mu.Lock()
	if s.outcome != nil { // decided (the server exited) while writing
		f.mu.Unlock()
		return errNotAllocated
	}
	s.results = res
	f.mu.Unlock()
	f.log.Info("session results reported", "server", s.id, "session", res.SessionID, "players", len(res.Players))
	return writeState(w, StateAllocated)
}

// resultsFor checks reported results against the allocation and completes
// them from it (mode, teams): the cell trusts its own match, not the server,
// for who played where.
func resultsFor(a *sdk.Allocation, r *sdk.Results) (*Results, *httpx.Error) {
	if r.SessionID != a.SessionID {
		return nil, httpx.BadRequest("results are for another session")
	}
	teams := make(map[string]int, len(a.Players))
	for _, p := range a.Players {
		teams[p.ID] = p.Team
	}
	out := &Results{SessionID: a.SessionID, Mode: a.Mode, StartedAt: r.StartedAt, EndedAt: r.EndedAt, Players: make([]PlayerResult, len(r.Players))}
	for i, p := range r.Players {
		team, ok := teams[p.PlayerID]
		if !ok {
			return nil, httpx.BadRequest("results name a player who is not in the match")
		}
		out.Players[i] = PlayerResult{
			PlayerID: p.PlayerID, Team: team, Score: p.Score, Kills: p.Kills, Deaths: p.Deaths,
			Placement: p.Placement, TimePlayedS: p.TimePlayedS,
		}
	}
	return out, nil
}

func sameResults(a, b *Results) bool {
	ja, erra := json.Marshal(a)
	jb, errb := json.Marshal(b)
	return erra == nil && errb == nil && bytes.Equal(ja, jb)
}

// telemetryTimeout bounds storing one telemetry batch: the sink publishes
// to the cell's embedded JetStream, which acks in milliseconds; longer
// means it is unavailable and the server should retry later.
const telemetryTimeout = 5 * time.Second

func (f *Fleet) handleTelemetry(w http.ResponseWriter, r *http.Request, s *server) error {
	var body sdk.TelemetryBatch
	if err := decodeRequest(w, r, &body, sdk.MaxTelemetryBody); err != nil {
		return err
	}
	f.mu.RLock()
	alloc, st := s.alloc, s.state
	f.mu.RUnlock()
	if alloc == nil || (st != StateAllocated && st != StateShutdown) {
		return errNotAllocated
	}
	if body.SessionID != alloc.SessionID {
		return httpx.BadRequest("telemetry is for another session")
	}
	for i, e := range body.Events {
		if e.PlayerID != "" && !alloc.HasPlayer(e.PlayerID) {
			return httpx.BadRequest("events[%d] names a player who is not in the match", i)
		}
	}
	result := "dropped"
	if f.cfg.Telemetry != nil {
		ctx, cancel := context.WithTimeout(r.Context(), telemetryTimeout)
		err := f.cfg.Telemetry(ctx, Telemetry{
			BatchID: body.BatchID, SessionID: body.SessionID, ServerID: s.id, Mode: alloc.Mode, Events: body.Events,
		})
		cancel()
		if err != nil {
			f.countTelemetry(body.Events, "failed")
			f.log.Warn("store telemetry", "server", s.id, "session", body.SessionID, "err", err)
			return httpx.Unavailable("telemetry cannot be stored now; retry")
		}
		result = "stored"
	}
	f.countTelemetry(body.Events, result)
	return writeState(w, st)
}

func (f *Fleet) countTelemetry(events []sdk.TelemetryEvent, result string) {
	f.metrics.telemetry.WithLabelValues(result).Add(float64(len(events)))
}

func (f *Fleet) handleShutdown(w http.ResponseWriter, r *http.Request, s *server) error {
	var body sdk.ShutdownRequest
	if err := decodeRequest(w, r, &body, sdk.MaxSmallBody); err != nil {
		return err
	}
	now := time.Now()
	f.mu.Lock()
	changed := s.state != StateShutdown && s.state != StateUnhealthy
	if changed {
		f.stopLocked(s, now)
		reason := "server shut down without results"
		if body.Reason != "" {
			reason = "server shut down: " + body.Reason
		}
		f.decideOutcomeLocked(s, reason, now)
	}
	st := s.state
	f.mu.Unlock()
	if changed {
		f.save(s)
		f.poke()
		f.log.Info("game server shutting down", "server", s.id, "reason", body.Reason)
	}
	return writeState(w, st)
}

type validatable interface{ Validate() error }

// decodeRequest strictly decodes a bounded JSON body into dst and
// validates it; failures are 4xx *httpx.Error values.
func decodeRequest(w http.ResponseWriter, r *http.Request, dst validatable, limit int64) error {
	if err := httpx.DecodeJSON(w, r, dst, limit); err != nil {
		return err
	}
	if err := dst.Validate(); err != nil {
		return httpx.BadRequest("%v", err)
	}
	return nil
}

// drainBody accepts an empty body or an empty JSON object, bounded, for
// calls that carry nothing.
func drainBody(w http.ResponseWriter, r *http.Request) error {
	if err := httpx.LimitBody(w, r, sdk.MaxSmallBody); err != nil {
		return err
	}
	data, err := io.ReadAll(r.Body)
	if err != nil {
		return httpx.Errorf(http.StatusRequestEntityTooLarge, httpx.CodePayloadTooLarge, "request body larger than %d bytes", sdk.MaxSmallBody)
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil
	}
	var empty struct{}
	if err := httpx.DecodeStrict(bytes.NewReader(data), &empty); err != nil {
		return err
	}
	return nil
}
