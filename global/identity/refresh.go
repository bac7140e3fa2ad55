package identity

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/atollgg/atoll/global/audit"
	"github.com/atollgg/atoll/internal/httpx"
	"github.com/jackc/pgx/v5"
)

// RefreshRequest is the body of POST /auth/refresh and /auth/logout.
type RefreshRequest struct {
	RefreshToken string `json:"refresh_token"`
}

var errRefreshInvalid = httpx.Unauthenticated("invalid or expired refresh token")

// errReuse is returned from the transaction after it revoked the family, so
// the revocation commits (the handler then answers 401).
var errReuse = errors.New("refresh token reuse")

func (s *Service) refresh(w http.ResponseWriter, r *http.Request) error {
	var req RefreshRequest
	if err := httpx.DecodeJSON(w, r, &req, maxAuthBody); err != nil {
		return err
	}
	if !validRefreshToken(req.RefreshToken) {
		return errRefreshInvalid
	}
	oldHash := hashToken(req.RefreshToken)
	now := s.now()
	next := s.newSession(now)
	var playerID string
	reused := false
	err := s.db.RunTx(r.Context(), func(ctx context.Context, tx pgx.Tx) error {
		reused = false
		var family string
		var expires, familyExpires time.Time
		var used, revoked *time.Time
		err := tx.QueryRow(ctx, `SELECT family_id::TEXT, player_id::TEXT, expires_at, family_expires_at, used_at, revoked_at
			FROM refresh_tokens WHERE token_hash = $1 FOR UPDATE`, oldHash).Scan(&family, &playerID, &expires, &familyExpires, &used, &revoked)
		if errors.Is(err, pgx.ErrNoRows) {
			return errRefreshInvalid
		}
		if err != nil {
			return err
		}
		if revoked != nil || !now.Before(expires) || !now.Before(familyExpires) {
			return errRefreshInvalid
		}
		if used != nil {
			// A rotated token came back: either the client or a thief holds a
			// copy. Revoke the whole family so the thief's copy dies too.
			reused = true
			if _, err := tx.Exec(ctx, `UPDATE refresh_tokens SET revoked_at = now() WHERE family_id = $1 AND revoked_at IS NULL`, family); err != nil {
				return err
			}
			return audit.Write(ctx, tx, audit.Event{Kind: audit.RefreshReuse, PlayerID: playerID, Actor: "player", Details: map[string]any{"family_id": family}})
		}
		if _, err := tx.Exec(ctx, `UPDATE refresh_tokens SET used_at = now() WHERE token_hash = $1`, oldHash); err != nil {
			return err
		}
		// The new token stays in the family and keeps its absolute end.
		next.family = family
		next.familyExpires = familyExpires
		if next.expires.After(familyExpires) {
			next.expires = familyExpires
		}
		var deleted *time.Time
		if err := tx.QueryRow(ctx, `SELECT deleted_at FROM players WHERE id = $1`, playerID).Scan(&deleted); err != nil {
			return err
		}
		if deleted != nil {
			return errRefreshInvalid
		}
		return next.store(ctx, tx, playerID)
	})
	if reused {
		s.log().WarnContext(r.Context(), "refresh token reuse: family revoked")
		return errRefreshInvalid
	}
	var he *httpx.Error
	if errors.As(err, &he) {
		return err
	}
	if err != nil {
		return fmt.Errorf("refresh: %w", err)
	}
	return s.writeSession(w, playerID, next, now, false)
}

// logout revokes the refresh token's whole family. It answers 204 whether or
// not the token was known, so it cannot be used to probe tokens.
func (s *Service) logout(w http.ResponseWriter, r *http.Request) error {
	var req RefreshRequest
	if err := httpx.DecodeJSON(w, r, &req, maxAuthBody); err != nil {
		return err
	}
	if !validRefreshToken(req.RefreshToken) {
		return httpx.BadRequest("refresh_token is malformed")
	}
	h := hashToken(req.RefreshToken)
	err := s.db.RunTx(r.Context(), func(ctx context.Context, tx pgx.Tx) error {
		var family, player string
		err := tx.QueryRow(ctx, `SELECT family_id::TEXT, player_id::TEXT FROM refresh_tokens WHERE token_hash = $1`, h).Scan(&family, &player)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE refresh_tokens SET revoked_at = now() WHERE family_id = $1 AND revoked_at IS NULL`, family); err != nil {
			return err
		}
		return audit.Write(ctx, tx, audit.Event{Kind: audit.Logout, PlayerID: player, Actor: "player"})
	})
	if err != nil {
		return fmt.Errorf("logout: %w", err)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
