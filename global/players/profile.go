package players

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/atollgg/atoll/internal/authn"
	"github.com/atollgg/atoll/internal/httpx"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// Profile is a player's profile. The private fields are filled only for the owner.
type Profile struct {
	PlayerID    string    `json:"player_id"`
	Username    string    `json:"username"`
	DisplayName string    `json:"display_name"`
	Level       int       `json:"player_level"`
	XP          int64     `json:"xp"`
	CreatedAt   time.Time `json:"created_at"`

	Email          string     `json:"email,omitempty"`
	AuthProviderID string     `json:"auth_provider_id,omitempty"`
	LastLogin      *time.Time `json:"last_login,omitempty"`
	ProfilePublic  *bool      `json:"profile_public,omitempty"`
}

type row struct {
	Profile
	emailEnc *string
	public   bool
	deleted  *time.Time
}

func (s *Service) load(ctx context.Context, id string) (*row, error) {
	var r row
	err := s.cfg.DB.Pool.QueryRow(ctx, `SELECT id::TEXT, username, display_name, player_level, xp, created_at, email_enc, auth_provider_id, last_login, profile_public, deleted_at
		FROM players WHERE id = $1`, id).Scan(&r.PlayerID, &r.Username, &r.DisplayName, &r.Level, &r.XP, &r.CreatedAt, &r.emailEnc, &r.AuthProviderID, &r.LastLogin, &r.public, &r.deleted)
	if errors.Is(err, pgx.ErrNoRows) || (err == nil && r.deleted != nil) {
		return nil, httpx.NotFound("no such player")
	}
	if err != nil {
		return nil, fmt.Errorf("load player: %w", err)
	}
	return &r, nil
}

func (s *Service) ownerView(r *row) (Profile, error) {
	p := r.Profile
	pub := r.public
	p.ProfilePublic = &pub
	if r.emailEnc != nil {
		email, err := s.cfg.PII.Open(*r.emailEnc, []byte(r.PlayerID))
		if err != nil {
			return Profile{}, fmt.Errorf("open email: %w", err)
		}
		p.Email = string(email)
	}
	return p, nil
}

func (s *Service) profile(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("playerId")
	if id == "me" {
		id = authn.PlayerID(r.Context())
	}
	if _, err := uuid.Parse(id); err != nil {
		return httpx.BadRequest("playerId must be a UUID")
	}
	row, err := s.load(r.Context(), id)
	if err != nil {
		return err
	}
	if id == authn.PlayerID(r.Context()) {
		p, err := s.ownerView(row)
		if err != nil {
			return err
		}
		httpx.WriteJSON(w, http.StatusOK, p)
		return nil
	}
	if !row.public {
		return httpx.Forbidden("this profile is private")
	}
	p := row.Profile
	p.AuthProviderID, p.LastLogin = "", nil
	httpx.WriteJSON(w, http.StatusOK, p)
	return nil
}

// UpdateRequest is the body of PATCH /player/me; absent fields are unchanged.
type UpdateRequest struct {
	DisplayName   *string `json:"display_name,omitempty"`
	ProfilePublic *bool   `json:"profile_public,omitempty"`
}

// maxDisplayName: long enough for any real name, short enough for a scoreboard.
const maxDisplayName = 32

func validDisplayName(n string) error {
	if !utf8.ValidString(n) {
		return httpx.BadRequest("display_name must be UTF-8")
	}
	if c := utf8.RuneCountInString(n); c < 1 || c > maxDisplayName {
		return httpx.BadRequest("display_name must be 1-%d characters", maxDisplayName)
	}
	if strings.TrimSpace(n) != n {
		return httpx.BadRequest("display_name must not start or end with white space")
	}
	for _, r := range n {
		if unicode.IsControl(r) || r == '\u200b' || r == '\u202e' {
			return httpx.BadRequest("display_name contains a control or invisible character")
		}
	}
	return nil
}

func (s *Service) update(w http.ResponseWriter, r *http.Request) error {
	var req UpdateRequest
	if err := httpx.DecodeJSON(w, r, &req, 4<<10); err != nil {
		return err
	}
	if req.DisplayName == nil && req.ProfilePublic == nil {
		return httpx.BadRequest("nothing to update: give display_name and/or profile_public")
	}
	if req.DisplayName != nil {
		if err := validDisplayName(*req.DisplayName); err != nil {
			return err
		}
	}
	id := authn.PlayerID(r.Context())
	tag, err := s.cfg.DB.Pool.Exec(r.Context(), `UPDATE players SET display_name = COALESCE($2, display_name), profile_public = COALESCE($3, profile_public)
		WHERE id = $1 AND deleted_at IS NULL`, id, req.DisplayName, req.ProfilePublic)
	if err != nil {
		return fmt.Errorf("update profile: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return httpx.NotFound("no such player")
	}
	row, err := s.load(r.Context(), id)
	if err != nil {
		return err
	}
	p, err := s.ownerView(row)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, p)
	return nil
}
