package identity

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/atollgg/atoll/global/audit"
	"github.com/atollgg/atoll/internal/httpx"
	"github.com/atollgg/atoll/internal/pii"
	"github.com/jackc/pgx/v5"
)

// LoginRequest is the body of POST /auth/login: a username or an email, and
// the password.
type LoginRequest struct {
	Username string `json:"username,omitempty"`
	Email    string `json:"email,omitempty"`
	Password string `json:"password"`
}

// errBadCredentials is the one answer for unknown accounts and wrong
// passwords alike, so the response does not reveal which accounts exist.
var errBadCredentials = httpx.Unauthenticated("invalid credentials")

func (s *Service) login(w http.ResponseWriter, r *http.Request) error {
	var req LoginRequest
	if err := httpx.DecodeJSON(w, r, &req, maxAuthBody); err != nil {
		return err
	}
	if (req.Username == "") == (req.Email == "") {
		return httpx.BadRequest("give exactly one of username or email")
	}
	if req.Password == "" {
		return httpx.BadRequest("password is required")
	}
	var col, key, acct string
	if req.Username != "" {
		col, key = "username_norm", normalizeUsername(req.Username)
		acct = "u:" + key
	} else {
		email, err := pii.NormalizeEmail(req.Email)
		if err != nil {
			return httpx.BadRequest("email is not a valid address")
		}
		col, key = "email_idx", s.cfg.Index.Index(email)
		acct = "e:" + key
	}
	if err := s.allow(r, s.ipLimit, "login", acct); err != nil {
		return err
	}
	ctx := r.Context()
	var id, hash string
	var hashPtr *string
	err := s.db.Pool.QueryRow(ctx, `SELECT id::TEXT, password_hash FROM players WHERE `+col+` = $1 AND deleted_at IS NULL`, key).Scan(&id, &hashPtr)
	if errors.Is(err, pgx.ErrNoRows) || (err == nil && hashPtr == nil) {
		// Same work as a real check, so timing does not reveal unknown accounts.
		_ = s.cfg.Hasher.VerifyDummy(ctx, req.Password)
		s.loginFailed(ctx, "", "unknown_account")
		return errBadCredentials
	}
	if err != nil {
		return fmt.Errorf("look up account: %w", err)
	}
	hash = *hashPtr
	ok, rehash, err := s.cfg.Hasher.Verify(ctx, req.Password, hash)
	if err != nil {
		return fmt.Errorf("verify password: %w", err)
	}
	if !ok {
		s.loginFailed(ctx, id, "wrong_password")
		return errBadCredentials
	}
	var newHash string
	if rehash {
		if newHash, err = s.cfg.Hasher.Hash(ctx, req.Password); err != nil {
			return fmt.Errorf("rehash password: %w", err)
		}
	}
	now := s.now()
	sess := s.newSession(now)
	err = s.db.RunTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		if newHash != "" {
			if _, err := tx.Exec(ctx, `UPDATE players SET password_hash = $2 WHERE id = $1`, id, newHash); err != nil {
				return err
			}
		}
		return sess.store(ctx, tx, id)
	})
	if err != nil {
		return fmt.Errorf("login: %w", err)
	}
	return s.writeSession(w, id, sess, now, false)
}

func (s *Service) loginFailed(ctx context.Context, playerID, reason string) {
	s.reject(ctx, audit.LoginFailed, playerID, reason, map[string]any{"reason": reason})
}
