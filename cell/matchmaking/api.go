package matchmaking

import (
	"context"
	"errors"
	"math"
	"mime"
	"net/http"
	"time"

	"github.com/atollgg/atoll/cell/matchmaker"
	"github.com/atollgg/atoll/cell/sessions"
	"github.com/atollgg/atoll/internal/authn"
	"github.com/atollgg/atoll/internal/httpx"
	"github.com/atollgg/atoll/internal/tokens"
	"github.com/google/uuid"
)

// Routes registers the players' API on mux; wrap is applied to every route.
func (s *Service) Routes(mux *http.ServeMux, wrap func(http.Handler) http.Handler) {
	auth := authn.Player(s.cfg.Verifier)
	h := func(f httpx.HandlerFunc) http.Handler { return wrap(httpx.Handle(s.log, auth(f))) }
	mux.Handle("POST /matchmaking/join", h(s.handleJoin))
	mux.Handle("GET /matchmaking/status", h(s.handleStatus))
	mux.Handle("DELETE /matchmaking/ticket", h(s.handleCancel))
	mux.Handle("POST /matchmaking/party/consent", h(s.handleConsent))
	mux.Handle("GET /matchmaking/modes", wrap(httpx.Handle(s.log, s.handleModes)))
	mux.Handle("GET /sessions/{id}", h(s.handleSession))
	mux.Handle("GET /ws", wrap(http.HandlerFunc(s.handleWS)))
}

// JoinResponse is the body of a 202 from POST /matchmaking/join.
type JoinResponse struct {
	TicketID string       `json:"ticket_id"`
	Status   TicketStatus `json:"status"`
}

func (s *Service) handleJoin(w http.ResponseWriter, r *http.Request) error {
	if err := httpx.LimitBody(w, r, maxJoinBody); err != nil {
		return err
	}
	if ct := r.Header.Get("Content-Type"); ct != "" && !isJSON(ct) {
		return &httpx.Error{Status: http.StatusUnsupportedMediaType, Code: httpx.CodeUnsupportedMedia, Message: "content type must be application/json"}
	}
	req, latency, err := DecodeJoin(r.Body, s.modes, s.cfg.Region)
	if err != nil {
		return err
	}
	leader := authn.PlayerID(r.Context())
	now := s.cfg.Now()
	if ok, retry := s.limit.Allow(leader, now); !ok {
		return httpx.TooManyRequests(retry)
	}
	players := []string{leader}
	for _, m := range req.Party {
		var c PartyClaims
		if err := s.party.VerifyInto(m.PartyToken, &c, now); err != nil || c.Subject != m.PlayerID || c.Leader != leader || c.Mode != req.GameMode {
			return httpx.Forbidden("a party member's consent is invalid or expired")
		}
		players = append(players, m.PlayerID)
		latency = max(latency, c.LatencyMs)
	}
	if err := s.checkFree(players, leader); err != nil {
		return err // before the ratings lookup, which a refused join need not pay
	}
	rctx, cancel := context.WithTimeout(r.Context(), ratingsTimeout)
	rs := s.cfg.Ratings.Ratings(rctx, req.GameMode, players)
	cancel()
	t := &Ticket{
		ID: uuid.NewString(), Mode: req.GameMode, Region: s.cfg.Region, Leader: leader,
		LatencyMs: latency, EnqueuedAt: now, Status: StatusQueued, UpdatedAt: now,
	}
	for _, p := range players {
		rating := rs[p]
		if math.IsNaN(rating) {
			rating = 0
		}
		// A rating store out of range must not make the ticket invalid.
		rating = max(min(rating, matchmaker.MaxAbsRating), -matchmaker.MaxAbsRating)
		t.Players = append(t.Players, matchmaker.Player{ID: p, Rating: rating})
	}
	if err := s.enqueue(t); err != nil {
		return err
	}
	s.metrics.joined.WithLabelValues(t.Mode).Inc()
	s.notify(players...)
	s.poke()
	httpx.WriteJSON(w, http.StatusAccepted, JoinResponse{TicketID: t.ID, Status: StatusQueued})
	return nil
}

// enqueue records and queues a new ticket, refusing players who hold an
// active one.
func (s *Service) enqueue(t *Ticket) error {
	ctx, cancel := s.storeCtx()
	defer cancel()
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.checkFreeLocked(t.playerIDs(), t.Leader); err != nil {
		return err
	}
	pool := s.pools[t.Mode]
	if pool.Len() >= s.maxTickets(t.Mode) {
		return &httpx.Error{Status: http.StatusServiceUnavailable, Code: httpx.CodeUnavailable, Message: "matchmaking queue is full, retry later", RetryAfter: queueFullRetry}
	}
	if err := s.store.put(ctx, t); err != nil {
		return err
	}
	if err := pool.Add(t.queueEntry()); err != nil {
		_ = s.store.delete(ctx, t.ID)
		if errors.Is(err, matchmaker.ErrPoolFull) {
			return &httpx.Error{Status: http.StatusServiceUnavailable, Code: httpx.CodeUnavailable, Message: "matchmaking queue is full, retry later", RetryAfter: queueFullRetry}
		}
		return err
	}
	s.tickets[t.ID] = t
	for _, p := range t.Players {
		s.byPlayer[p.ID] = t.ID
	}
	return nil
}

// checkFree refuses players who hold an active ticket.
func (s *Service) checkFree(players []string, leader string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.checkFreeLocked(players, leader)
}

// checkFreeLocked is checkFree for callers holding s.mu.
func (s *Service) checkFreeLocked(players []string, leader string) error {
	for _, p := range players {
		if cur, ok := s.tickets[s.byPlayer[p]]; ok && cur.active() {
			e := httpx.Conflict(httpx.CodeConflict, "a party member already has an active ticket")
			if p == leader {
				e.Message = "you already have an active ticket"
				e.Details = map[string]any{"ticket_id": cur.ID}
			}
			return e
		}
	}
	return nil
}

// queueFullRetry is the Retry-After of a full queue: a few passes' time.
const queueFullRetry = 5 * time.Second

func (s *Service) maxTickets(mode string) int {
	if n := s.modes[mode].MaxTickets; n > 0 {
		return n
	}
	return matchmaker.DefaultMaxTickets
}

func (s *Service) handleStatus(w http.ResponseWriter, r *http.Request) error {
	if len(r.URL.RawQuery) > 0 {
		return httpx.BadRequest("status takes no parameters")
	}
	st, ok := s.statusOf(authn.PlayerID(r.Context()))
	if !ok {
		return httpx.NotFound("you have no matchmaking ticket")
	}
	httpx.WriteJSON(w, http.StatusOK, st)
	return nil
}

func (s *Service) handleCancel(w http.ResponseWriter, r *http.Request) error {
	player := authn.PlayerID(r.Context())
	ctx, cancel := s.storeCtx()
	defer cancel()
	s.mu.Lock()
	t, ok := s.tickets[s.byPlayer[player]]
	if !ok || !t.active() {
		s.mu.Unlock()
		return httpx.NotFound("you have no queued ticket")
	}
	if t.Status != StatusQueued || t.allocating {
		s.mu.Unlock()
		return httpx.Conflict(httpx.CodeConflict, "the ticket is already matched")
	}
	s.pools[t.Mode].Remove(t.ID)
	t.Status = StatusCancelled
	t.UpdatedAt = s.cfg.Now()
	err := s.store.put(ctx, t)
	players := t.playerIDs()
	id := t.ID
	s.mu.Unlock()
	if err != nil {
		return err
	}
	s.metrics.cancelled.WithLabelValues(t.Mode).Inc()
	s.notify(players...)
	httpx.WriteJSON(w, http.StatusOK, JoinResponse{TicketID: id, Status: StatusCancelled})
	return nil
}

// ConsentResponse is the body of POST /matchmaking/party/consent.
type ConsentResponse struct {
	PartyToken string    `json:"party_token"`
	ExpiresAt  time.Time `json:"expires_at"`
}

func (s *Service) handleConsent(w http.ResponseWriter, r *http.Request) error {
	if ct := r.Header.Get("Content-Type"); ct != "" && !isJSON(ct) {
		return &httpx.Error{Status: http.StatusUnsupportedMediaType, Code: httpx.CodeUnsupportedMedia, Message: "content type must be application/json"}
	}
	if err := httpx.LimitBody(w, r, maxConsentBody); err != nil {
		return err
	}
	req, latency, err := DecodeConsent(r.Body, s.modes, s.cfg.Region)
	if err != nil {
		return err
	}
	member := authn.PlayerID(r.Context())
	if ok, retry := s.limit.Allow(member, s.cfg.Now()); !ok {
		return httpx.TooManyRequests(retry)
	}
	if req.LeaderID == member {
		return httpx.BadRequest("leader_id is yourself: the leader joins without consent")
	}
	tok, exp, err := s.signParty(member, req.LeaderID, req.GameMode, latency, s.cfg.Now())
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, ConsentResponse{PartyToken: tok, ExpiresAt: exp})
	return nil
}

func (s *Service) handleModes(w http.ResponseWriter, r *http.Request) error {
	httpx.WriteJSON(w, http.StatusOK, map[string]any{"region": s.cfg.Region, "modes": s.Modes()})
	return nil
}

// handleSession serves a session to its participants; to anyone else it
// does not exist.
func (s *Service) handleSession(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	if _, err := uuid.Parse(id); err != nil {
		return httpx.NotFound("no such session")
	}
	ctx, cancel := s.storeCtx()
	defer cancel()
	sess, _, err := s.cfg.Sessions.Get(ctx, id)
	if errors.Is(err, sessions.ErrNotFound) || (err == nil && !sess.HasPlayer(authn.PlayerID(r.Context()))) {
		return httpx.NotFound("no such session")
	}
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, sess)
	return nil
}

func isJSON(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	return err == nil && mt == "application/json"
}

// verifyAccess checks a player's access token; the WebSocket uses it.
func (s *Service) verifyAccess(tok string) (*tokens.AccessClaims, error) {
	return s.cfg.Verifier.VerifyAccess(tok, s.cfg.Now())
}
