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
	now := s.now()
	c, err := s.refreshKey.parse(req.RefreshToken)
	if err != nil || !c.live(now) {
		return errRefreshInvalid
	}
	playerID := c.player.String()
	// The new token stays in the family and keeps its absolute end.
	next := pendingSession{family: c.family, generation: c.generation + 1, familyExpires: c.familyExpires,
		expires: now.Add(s.cfg.RefreshTTL).Truncate(time.Second)}
	if next.expires.After(c.familyExpires) {
		next.expires = c.familyExpires
	}
	reused := false
	err = s.db.RunTx(r.Context(), func(ctx context.Context, tx pgx.Tx) error {
		reused = false
		if err := s.rotate(ctx, tx, c); err != nil {
			if errors.Is(err, errReuse) {
				// A retired token came back: either the client or a thief
				// holds a copy. Revoke the whole family so the thief's copy
				// dies too, and commit that.
				reused = true
				return s.revokeFamily(ctx, tx, c, audit.RefreshReuse, map[string]any{"family_id": c.family.String()})
			}
			return err
		}
		var deleted *time.Time
		if err := tx.QueryRow(ctx, `SELECT deleted_at FROM players WHERE id = $1`, playerID).Scan(&deleted); err != nil {
			if errors.Is(err, pgx.ErrNoRows) {
				return errRefreshInvalid
			}
			return err
		}
		if deleted != nil {
			return errRefreshInvalid
		}
		return stampLogin(ctx, tx, playerID)
	})
	if reused && err == nil {
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

// rotate retires the token c in its family, in tx: the family's row then
// names generation c.generation+1 as its only valid token. A family has no
// row until its first token is refreshed (logins write nothing), so a
// missing row means generation 0 is valid. It returns errReuse when c was
// already retired, including by a concurrent refresh of the same token, and
// errRefreshInvalid when the family is revoked.
func (s *Service) rotate(ctx context.Context, tx pgx.Tx, c refreshClaims) error {
	var gen int64
	var revoked *time.Time
	err := tx.QueryRow(ctx, `SELECT generation, revoked_at FROM refresh_families WHERE family_id = $1 FOR UPDATE`, c.family).Scan(&gen, &revoked)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		if c.generation != 0 {
			// Only a rotation mints a later generation, and it writes the row.
			return errRefreshInvalid
		}
		tag, err := tx.Exec(ctx, `INSERT INTO refresh_families (family_id, player_id, generation, family_expires_at)
			VALUES ($1, $2, 1, $3) ON CONFLICT (family_id) DO NOTHING`, c.family, c.player, c.familyExpires)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			// A concurrent refresh of this same token inserted it first.
			return errReuse
		}
		return nil
	case err != nil:
		return err
	case revoked != nil:
		return errRefreshInvalid
	case int64(c.generation) < gen:
		return errReuse
	case int64(c.generation) > gen:
		return errRefreshInvalid
	}
	_, err = tx.Exec(ctx, `UPDATE refresh_families SET generation = generation + 1, updated_at = now() WHERE family_id = $1`, c.family)
	return err
}

// revokeFamily ends c's family, in tx, whether or not it has a row yet, and
// audits why.
func (s *Service) revokeFamily(ctx context.Context, tx pgx.Tx, c refreshClaims, kind string, details map[string]any) error {
	if _, err := tx.Exec(ctx, `INSERT INTO refresh_families (family_id, player_id, generation, family_expires_at, revoked_at)
		VALUES ($1, $2, $3, $4, now())
		ON CONFLICT (family_id) DO UPDATE SET revoked_at = COALESCE(refresh_families.revoked_at, excluded.revoked_at), updated_at = now()`,
		c.family, c.player, int64(c.generation), c.familyExpires); err != nil {
		return err
	}
	return audit.Write(ctx, tx, audit.Event{Kind: kind, PlayerID: c.player.String(), Actor: "player", Details: details})
}

// logout revokes the refresh token's whole family. It answers 204 whether or
// not the token was valid, so it cannot be used to probe tokens.
func (s *Service) logout(w http.ResponseWriter, r *http.Request) error {
	var req RefreshRequest
	if err := httpx.DecodeJSON(w, r, &req, maxAuthBody); err != nil {
		return err
	}
	if !validRefreshToken(req.RefreshToken) {
		return httpx.BadRequest("refresh_token is malformed")
	}
	c, err := s.refreshKey.parse(req.RefreshToken)
	if err != nil {
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
	if err := s.db.RunTx(r.Context(), func(ctx context.Context, tx pgx.Tx) error {
		return s.revokeFamily(ctx, tx, c, audit.Logout, nil)
	}); err != nil {
		return fmt.Errorf("logout: %w", err)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
