package identity

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/atollgg/atoll/global/audit"
	"github.com/atollgg/atoll/internal/db"
	"github.com/atollgg/atoll/internal/httpx"
	"github.com/atollgg/atoll/internal/password"
	"github.com/atollgg/atoll/internal/pii"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// RegisterRequest is the body of POST /auth/register.
type RegisterRequest struct {
	Username string `json:"username"`
	Email    string `json:"email"`
	Password string `json:"password"`
}

func (s *Service) register(w http.ResponseWriter, r *http.Request) error {
	var req RegisterRequest
	if err := httpx.DecodeJSON(w, r, &req, maxAuthBody); err != nil {
		return err
	}
	if err := s.allow(r, s.regLimit, "register", ""); err != nil {
		return err
	}
	if !validUsername(req.Username) {
		return httpx.BadRequest("username must be 3-24 letters, digits, '_', '.' or '-', start with a letter or digit, and not use a reserved prefix")
	}
	email, err := pii.NormalizeEmail(req.Email)
	if err != nil {
		return httpx.BadRequest("email is not a valid address")
	}
	if err := s.cfg.Policy.Check(req.Password, req.Username, email); err != nil {
		var pe *password.PolicyError
		if errors.As(err, &pe) {
			return httpx.BadRequest("%s", pe.Message)
		}
		return httpx.BadRequest("password rejected by policy")
	}
	hash, err := s.cfg.Hasher.Hash(r.Context(), req.Password)
	if err != nil {
		return fmt.Errorf("hash password: %w", err)
	}
	id := uuid.NewString()
	sealed, err := s.cfg.PII.Seal([]byte(email), []byte(id))
	if err != nil {
		return fmt.Errorf("seal email: %w", err)
	}
	idx := s.cfg.Index.Index(email)
	now := s.now()
	sess := s.newSession(now)
	err = s.db.RunTx(r.Context(), func(ctx context.Context, tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO players (id, username, username_norm, email_enc, email_idx, password_hash, auth_provider_id, last_login)
			VALUES ($1, $2, $3, $4, $5, $6, 'password', now())`, id, req.Username, normalizeUsername(req.Username), sealed, idx, hash); err != nil {
			return err
		}
		return audit.Write(ctx, tx, audit.Event{Kind: audit.Registered, PlayerID: id, Actor: "player", Details: map[string]any{"provider": "password"}})
	})
	switch {
	case db.IsUniqueViolation(err, "players_username_key"):
		return httpx.Conflict(httpx.CodeAlreadyExists, "username is taken")
	case db.IsUniqueViolation(err, "players_email_key"):
		return httpx.Conflict(httpx.CodeAlreadyExists, "email is already registered")
	case err != nil:
		return fmt.Errorf("register: %w", err)
	}
	return s.writeSession(w, id, sess, now, true)
}
