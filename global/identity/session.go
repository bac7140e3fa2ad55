package identity

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/atollgg/atoll/internal/httpx"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// SessionResponse is what every successful auth call returns.
type SessionResponse struct {
	PlayerID     string `json:"player_id"`
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	// ExpiresIn is the access token's lifetime in seconds.
	ExpiresIn int `json:"expires_in"`
	// Created is true when this call created the player.
	Created bool `json:"created,omitempty"`
}

// refreshPrefix marks Atoll refresh tokens so secret scanners can find leaked ones.
const refreshPrefix = "art_"

// maxRefreshTokenLen bounds what a request may present as a refresh token.
const maxRefreshTokenLen = 128

func validRefreshToken(tok string) bool {
	return strings.HasPrefix(tok, refreshPrefix) && len(tok) <= maxRefreshTokenLen
}

// pendingSession is the refresh-token family a successful auth call starts
// (or, on refresh, continues); its token is minted once the player is known.
type pendingSession struct {
	family                 uuid.UUID
	generation             uint32
	expires, familyExpires time.Time
}

func (s *Service) newSession(now time.Time) pendingSession {
	return pendingSession{
		family:        uuid.New(),
		expires:       now.Add(s.cfg.RefreshTTL).Truncate(time.Second),
		familyExpires: now.Add(s.cfg.RefreshFamilyTTL).Truncate(time.Second),
	}
}

// stampLogin records the login on the player, in tx; a suspended player
// gets errSuspended (and the transaction rolls back).
func stampLogin(ctx context.Context, tx pgx.Tx, playerID string) error {
	tag, err := tx.Exec(ctx, `UPDATE players SET last_login = now() WHERE id = $1 AND suspended_at IS NULL`, playerID)
	if err != nil {
		return fmt.Errorf("stamp last login: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return errSuspended
	}
	return nil
}

// writeSession signs the access token and mints the refresh token of a
// session and answers with them: 201 when the call created the player, else
// 200.
func (s *Service) writeSession(w http.ResponseWriter, playerID string, p pendingSession, now time.Time, created bool) error {
	pid, err := uuid.Parse(playerID)
	if err != nil {
		return fmt.Errorf("mint refresh token: player id: %w", err)
	}
	at, exp, err := s.cfg.Issuer.IssueAccess(playerID, now)
	if err != nil {
		return fmt.Errorf("issue access token: %w", err)
	}
	rt := s.refreshKey.mint(refreshClaims{family: p.family, player: pid, generation: p.generation, expires: p.expires, familyExpires: p.familyExpires})
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	httpx.WriteJSON(w, status, SessionResponse{PlayerID: playerID, AccessToken: at, RefreshToken: rt, ExpiresIn: int(exp.Unix() - now.Unix()), Created: created})
	return nil
}
