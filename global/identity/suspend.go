package identity

import (
	"context"
	"fmt"
	"net/http"

	"github.com/atollgg/atoll/global/audit"
	"github.com/atollgg/atoll/internal/authn"
	"github.com/atollgg/atoll/internal/httpx"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// CodeAccountSuspended is the error code of a login or refresh by a
// suspended player (403). Stable: clients show "account suspended".
const CodeAccountSuspended = "account_suspended"

var errSuspended = &httpx.Error{Status: http.StatusForbidden, Code: CodeAccountSuspended, Message: "account suspended"}

// suspendedMarker stands for a suspended player's id in the device-login
// batch's answer; no player id is a single word.
const suspendedMarker = "suspended"

// maxSuspendReason bounds the stored reason; it is shown to operators.
const maxSuspendReason = 256

// Suspend suspends playerID in tx: logins and refreshes fail with
// account_suspended (access tokens run out within their TTL; refresh
// tokens are kept, so lifting the suspension restores the sessions). Suspending a suspended or unknown player changes
// nothing; the caller writes the audit record.
func Suspend(ctx context.Context, tx pgx.Tx, playerID, reason string) error {
	if len(reason) > maxSuspendReason {
		reason = reason[:maxSuspendReason]
	}
	if _, err := tx.Exec(ctx, `UPDATE players SET suspended_at = now(), suspended_reason = $2 WHERE id = $1 AND suspended_at IS NULL`, playerID, reason); err != nil {
		return fmt.Errorf("suspend player: %w", err)
	}
	return nil
}

// Unsuspend lifts a suspension in tx; it reports whether the player was
// suspended.
func Unsuspend(ctx context.Context, tx pgx.Tx, playerID string) (bool, error) {
	tag, err := tx.Exec(ctx, `UPDATE players SET suspended_at = NULL, suspended_reason = NULL WHERE id = $1 AND suspended_at IS NOT NULL`, playerID)
	if err != nil {
		return false, fmt.Errorf("unsuspend player: %w", err)
	}
	return tag.RowsAffected() > 0, nil
}

// SuspendRequest is the body of POST /admin/players/{id}/suspension.
type SuspendRequest struct {
	Reason string `json:"reason"`
}

// SuspensionRoutes registers the operators' suspension API behind the
// admin token: POST /admin/players/{id}/suspension suspends (204),
// DELETE lifts it (204, or 404 when the player was not suspended). An
// empty token registers nothing.
func (s *Service) SuspensionRoutes(mux *http.ServeMux, wrap func(http.Handler) http.Handler, adminToken string) {
	if adminToken == "" {
		return
	}
	admin := authn.Admin(adminToken)
	h := func(f httpx.HandlerFunc) http.Handler { return wrap(httpx.Handle(s.cfg.Log, admin(f))) }
	mux.Handle("POST /admin/players/{id}/suspension", h(s.adminSuspend))
	mux.Handle("DELETE /admin/players/{id}/suspension", h(s.adminUnsuspend))
}

func (s *Service) adminSuspend(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	if _, err := uuid.Parse(id); err != nil {
		return httpx.BadRequest("player id must be a UUID")
	}
	var req SuspendRequest
	if err := httpx.DecodeJSON(w, r, &req, maxAuthBody); err != nil {
		return err
	}
	err := s.db.RunTx(r.Context(), func(ctx context.Context, tx pgx.Tx) error {
		var exists bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM players WHERE id = $1 AND deleted_at IS NULL)`, id).Scan(&exists); err != nil {
			return err
		}
		if !exists {
			return httpx.NotFound("no such player")
		}
		if err := Suspend(ctx, tx, id, req.Reason); err != nil {
			return err
		}
		return audit.Write(ctx, tx, audit.Event{Kind: audit.AdminAction, PlayerID: id, Actor: "admin", Details: map[string]any{"action": "player.suspend"}})
	})
	if err != nil {
		return fmt.Errorf("suspend: %w", err)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Service) adminUnsuspend(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	if _, err := uuid.Parse(id); err != nil {
		return httpx.BadRequest("player id must be a UUID")
	}
	err := s.db.RunTx(r.Context(), func(ctx context.Context, tx pgx.Tx) error {
		lifted, err := Unsuspend(ctx, tx, id)
		if err != nil {
			return err
		}
		if !lifted {
			return httpx.NotFound("player is not suspended")
		}
		return audit.Write(ctx, tx, audit.Event{Kind: audit.AdminAction, PlayerID: id, Actor: "admin", Details: map[string]any{"action": "player.unsuspend"}})
	})
	if err != nil {
		return fmt.Errorf("unsuspend: %w", err)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
