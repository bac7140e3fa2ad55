package identity

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
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

// maxRefreshTokenLen bounds what we hash from a request.
const maxRefreshTokenLen = 128

// newRefreshToken returns a 256-bit opaque token and the hash stored for it.
// Only the hash is stored: a database leak must not leak usable sessions. A
// fast hash is enough because the token has full entropy.
func newRefreshToken() (token, hash string) {
	var b [32]byte
	_, _ = rand.Read(b[:])
	token = refreshPrefix + base64.RawURLEncoding.EncodeToString(b[:])
	return token, hashToken(token)
}

func hashToken(tok string) string {
	h := sha256.Sum256([]byte(tok))
	return hex.EncodeToString(h[:])
}

func validRefreshToken(tok string) bool {
	return strings.HasPrefix(tok, refreshPrefix) && len(tok) <= maxRefreshTokenLen
}

// pendingSession is a refresh token about to be stored.
type pendingSession struct {
	token, hash, family    string
	expires, familyExpires time.Time
}

func (s *Service) newSession(now time.Time) pendingSession {
	tok, h := newRefreshToken()
	return pendingSession{
		token: tok, hash: h, family: uuid.NewString(),
		expires:       now.Add(s.cfg.RefreshTTL),
		familyExpires: now.Add(s.cfg.RefreshFamilyTTL),
	}
}

// store inserts the refresh token and stamps last_login, in tx; a
// suspended player gets errSuspended (and the transaction rolls back).
func (p pendingSession) store(ctx context.Context, tx pgx.Tx, playerID string) error {
	if _, err := tx.Exec(ctx, `INSERT INTO refresh_tokens (token_hash, family_id, player_id, expires_at, family_expires_at) VALUES ($1, $2, $3, $4, $5)`,
		p.hash, p.family, playerID, p.expires, p.familyExpires); err != nil {
		return fmt.Errorf("store refresh token: %w", err)
	}
	tag, err := tx.Exec(ctx, `UPDATE players SET last_login = now() WHERE id = $1 AND suspended_at IS NULL`, playerID)
	if err != nil {
		return fmt.Errorf("stamp last login: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return errSuspended
	}
	return nil
}

// writeSession signs the access token for a stored session and answers
// with it: 201 when the call created the player, else 200.
func (s *Service) writeSession(w http.ResponseWriter, playerID string, p pendingSession, now time.Time, created bool) error {
	at, exp, err := s.cfg.Issuer.IssueAccess(playerID, now)
	if err != nil {
		return fmt.Errorf("issue access token: %w", err)
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	httpx.WriteJSON(w, status, SessionResponse{PlayerID: playerID, AccessToken: at, RefreshToken: p.token, ExpiresIn: int(exp.Unix() - now.Unix()), Created: created})
	return nil
}
