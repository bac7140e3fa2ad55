// Package boardapi serves the leaderboard read API (top N with cursor pages,
// around=me, one player's entry) over a rank.Boards: cells and the core
// serve the same API and cannot import each other.
package boardapi

import (
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/atollgg/atoll/contract"
	"github.com/atollgg/atoll/internal/httpx"
	"github.com/atollgg/atoll/internal/rank"
	"github.com/atollgg/atoll/internal/tokens"
	"github.com/google/uuid"
)

// Config is the API's whole configuration.
type Config struct {
	// Scope is the scope of the boards this service serves (regional on a
	// cell, global on the core); boards of the other scope answer 404.
	Scope string
	// Definitions are every board, of both scopes.
	Definitions []contract.LeaderboardDefinition
	// Boards holds the entries.
	Boards *rank.Boards
	// Verifier checks players' access tokens for around=me. Required.
	Verifier *tokens.Verifier
	// Log is the logger. Required.
	Log *slog.Logger
	// Now picks the current season; nil means time.Now.
	Now func() time.Time
	// Before, when set, runs before a season is read: the core loads an
	// archived season from the database on first use. Nil means none.
	Before func(r *http.Request, board *contract.LeaderboardDefinition, season string) error
}

// API serves the read API.
type API struct {
	cfg  Config
	defs map[string]*contract.LeaderboardDefinition
}

// New returns the API over cfg.Boards.
func New(cfg Config) (*API, error) {
	if cfg.Boards == nil || cfg.Verifier == nil || cfg.Log == nil {
		return nil, errors.New("leaderboard API: boards, verifier and logger are required")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	a := &API{cfg: cfg, defs: map[string]*contract.LeaderboardDefinition{}}
	for i := range cfg.Definitions {
		a.defs[cfg.Definitions[i].Name] = &cfg.Definitions[i]
	}
	return a, nil
}

// Routes registers GET /leaderboards/{name} and
// GET /leaderboards/{name}/players/{id}; wrap is applied to both.
func (a *API) Routes(mux *http.ServeMux, wrap func(http.Handler) http.Handler) {
	mux.Handle("GET /leaderboards/{name}", wrap(httpx.Handle(a.cfg.Log, a.handleBoard)))
	mux.Handle("GET /leaderboards/{name}/players/{id}", wrap(httpx.Handle(a.cfg.Log, a.handlePlayer)))
}

// board finds the board of the request's {name}, served here.
func (a *API) board(r *http.Request) (*contract.LeaderboardDefinition, error) {
	name := r.PathValue("name")
	d, ok := a.defs[name]
	if !ok || !contract.ValidLeaderboardName(name) {
		return nil, httpx.NotFound("no such leaderboard")
	}
	if d.Scope != a.cfg.Scope {
		if d.Scope == contract.ScopeGlobal {
			return nil, httpx.NotFound("a global leaderboard: the global core serves it")
		}
		return nil, httpx.NotFound("a regional leaderboard: each cell serves its own")
	}
	return d, nil
}

// season picks the asked-for season, or the current one.
func (a *API) season(r *http.Request, d *contract.LeaderboardDefinition, asked string) (string, error) {
	season := asked
	if season == "" {
		season = d.Season(a.cfg.Now())
	} else if !d.ValidSeason(season) {
		return "", httpx.BadRequest("season %q is not a season of a %s leaderboard", season, d.Reset)
	}
	if a.cfg.Before != nil {
		if err := a.cfg.Before(r, d, season); err != nil {
			return "", err
		}
	}
	return season, nil
}

func (a *API) handleBoard(w http.ResponseWriter, r *http.Request) error {
	d, err := a.board(r)
	if err != nil {
		return err
	}
	q, err := contract.ParseLeaderboardQuery(r.URL.Query())
	if err != nil {
		return httpx.BadRequest("%s", err.Error())
	}
	var caller string
	if q.Around {
		tok, ok := httpx.BearerToken(r)
		if !ok {
			return httpx.Unauthenticated("around=me needs the player's bearer token")
		}
		c, err := a.cfg.Verifier.VerifyAccess(tok, time.Now())
		if err != nil {
			if errors.Is(err, tokens.ErrKeysUnavailable) {
				return httpx.Unavailable("token keys unavailable")
			}
			return httpx.Unauthenticated("invalid or expired token")
		}
		caller = c.PlayerID()
	}
	season, err := a.season(r, d, q.Season)
	if err != nil {
		return err
	}
	page := contract.LeaderboardPage{Leaderboard: d.Name, Season: season, Scope: d.Scope, Entries: []contract.LeaderboardEntry{}}
	found := true
	a.cfg.Boards.Read(d.Name, season, func(x *rank.Index) {
		if x == nil {
			found = !q.Around
			return
		}
		page.Total = x.Len()
		var (
			es    []rank.Entry
			first int
			more  bool
		)
		if q.Around {
			es, first, _, found = x.Around(caller, q.Limit)
			more = first+len(es)-1 < x.Len()
		} else {
			var key *rank.Entry
			if q.Cursor.Set {
				key = &rank.Entry{ID: q.Cursor.PlayerID, Score: q.Cursor.Score, Updated: q.Cursor.UpdatedUS}
			}
			es, first, more = x.After(key, q.Limit)
		}
		for i, e := range es {
			page.Entries = append(page.Entries, entry(e, first+i))
		}
		if more && len(es) > 0 {
			last := es[len(es)-1]
			page.NextCursor = contract.LeaderboardCursor{Set: true, Score: last.Score, UpdatedUS: last.Updated, PlayerID: last.ID}.Encode()
		}
	})
	if !found {
		return httpx.NotFound("you have no rank on this leaderboard this season")
	}
	httpx.WriteJSON(w, http.StatusOK, page)
	return nil
}

func (a *API) handlePlayer(w http.ResponseWriter, r *http.Request) error {
	d, err := a.board(r)
	if err != nil {
		return err
	}
	id := r.PathValue("id")
	if _, err := uuid.Parse(id); err != nil || len(id) != 36 {
		return httpx.BadRequest("player id is not a UUID")
	}
	for k, v := range r.URL.Query() {
		if k != "season" || len(v) != 1 || v[0] == "" {
			return httpx.BadRequest("the only query parameter is season, once")
		}
	}
	season, err := a.season(r, d, r.URL.Query().Get("season"))
	if err != nil {
		return err
	}
	out := contract.LeaderboardPlayer{Leaderboard: d.Name, Season: season, Scope: d.Scope}
	found := false
	a.cfg.Boards.Read(d.Name, season, func(x *rank.Index) {
		if x == nil {
			return
		}
		e, ok := x.Get(id)
		if !ok {
			return
		}
		rk, _ := x.Rank(id)
		out.Total, out.Entry, found = x.Len(), entry(e, rk), true
	})
	if !found {
		return httpx.NotFound("the player has no rank on this leaderboard this season")
	}
	httpx.WriteJSON(w, http.StatusOK, out)
	return nil
}

func entry(e rank.Entry, rk int) contract.LeaderboardEntry {
	return contract.LeaderboardEntry{PlayerID: e.ID, Score: e.Score, Rank: rk, Updated: time.UnixMicro(e.Updated).UTC()}
}
