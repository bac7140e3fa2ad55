package telemetry

import (
	"bytes"
	"errors"
	"mime"
	"net/http"

	"github.com/atollgg/atoll/contract"
	"github.com/atollgg/atoll/gameserver/sdk"
	"github.com/atollgg/atoll/internal/httpx"
	"github.com/atollgg/atoll/internal/tokens"
)

// Path is the cell's telemetry endpoint.
const Path = "/game/telemetry"

// Routes registers POST /game/telemetry on mux; wrap is applied to it.
func (in *Ingest) Routes(mux *http.ServeMux, wrap func(http.Handler) http.Handler) {
	mux.Handle("POST "+Path, wrap(httpx.Handle(in.log, in.handle)))
}

// handle authenticates the sender (a game server by its SDK headers, else a
// player by access token), rate-limits it, reads at most its byte limit,
// decodes, publishes and answers 202 after the stream's ack.
func (in *Ingest) handle(w http.ResponseWriter, r *http.Request) error {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/json" {
			return &httpx.Error{Status: http.StatusUnsupportedMediaType, Code: httpx.CodeUnsupportedMedia, Message: "content type must be application/json"}
		}
	}
	s, lim, err := in.authenticate(r)
	if err != nil {
		return err
	}
	now := in.cfg.Now()
	limiter := in.clients
	if s.Kind == contract.SenderServer {
		limiter = in.servers
	}
	if ok, retry := limiter.Allow(s.ID, now); !ok {
		in.metrics.batch(s.Kind, "rate_limited", 0)
		return httpx.TooManyRequests(retry)
	}
	body, err := readBody(w, r, lim.MaxBatchBytes)
	if err != nil {
		in.metrics.batch(s.Kind, "too_large", 0)
		return err
	}
	b, err := Decode(body, s, lim, now)
	if err != nil {
		in.metrics.batch(s.Kind, "invalid", 0)
		return err
	}
	res, err := in.Publish(r.Context(), b)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusAccepted, res)
	return nil
}

// authenticate tells game servers (SDK headers) from players (access
// token) and returns the sender with its limits.
func (in *Ingest) authenticate(r *http.Request) (Sender, Limits, error) {
	if r.Header.Get(sdk.HeaderServerID) != "" {
		if in.cfg.Servers == nil {
			return Sender{}, Limits{}, httpx.Unauthenticated("game servers send telemetry through the SDK port")
		}
		srv, err := in.cfg.Servers(r)
		if err != nil {
			return Sender{}, Limits{}, err
		}
		alloc := srv.Allocation
		return Sender{Kind: contract.SenderServer, ID: srv.ServerID, SessionID: srv.SessionID, Mode: srv.Mode,
			HasPlayer: alloc.HasPlayer}, in.cfg.Server, nil
	}
	tok, ok := httpx.BearerToken(r)
	if !ok {
		return Sender{}, Limits{}, httpx.Unauthenticated("missing bearer token")
	}
	if in.cfg.Verifier == nil {
		return Sender{}, Limits{}, httpx.Unauthenticated("players cannot send telemetry to this cell")
	}
	c, err := in.cfg.Verifier.VerifyAccess(tok, in.cfg.Now())
	if err != nil {
		if errors.Is(err, tokens.ErrKeysUnavailable) {
			return Sender{}, Limits{}, httpx.Unavailable("token keys unavailable")
		}
		return Sender{}, Limits{}, httpx.Unauthenticated("invalid or expired token")
	}
	return Sender{Kind: contract.SenderClient, ID: c.PlayerID()}, in.cfg.Client, nil
}

// bytesMinRead is the first buffer of a body without Content-Length.
const bytesMinRead = 4 << 10

// readBody reads the whole body, at most limit bytes; more is a 413.
func readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	if r.ContentLength > limit {
		return nil, tooLarge("batch larger than %d bytes", limit)
	}
	// Sized from Content-Length when given: io.ReadAll's doubling copied a
	// large batch several times.
	size := bytesMinRead
	if r.ContentLength > 0 {
		size = int(r.ContentLength) + 1 // +1: the read that sees EOF
	}
	buf := bytes.NewBuffer(make([]byte, 0, size))
	_, err := buf.ReadFrom(http.MaxBytesReader(w, r.Body, limit))
	body := buf.Bytes()
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, tooLarge("batch larger than %d bytes", limit)
		}
		return nil, httpx.BadRequest("read body: %v", err)
	}
	return body, nil
}
