package identity

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/atollgg/atoll/global/audit"
	"github.com/atollgg/atoll/internal/db"
	"github.com/atollgg/atoll/internal/httpx"
	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// OIDCProvider is an external OpenID Connect issuer whose id_tokens players
// may exchange for an Atoll session.
type OIDCProvider struct {
	// Issuer is the exact "iss" of its tokens, e.g. https://accounts.example.com.
	Issuer string
	// ClientID is this game's client id at the issuer: the required audience.
	ClientID string
	// JWKSURL, when set, skips discovery; empty means discovery via
	// Issuer/.well-known/openid-configuration on first use.
	JWKSURL string
}

// oidcHTTPTimeout bounds discovery and JWKS fetches so a slow identity
// provider cannot hold login requests for long.
const oidcHTTPTimeout = 5 * time.Second

// maxIDToken bounds id_tokens: real ones are 1–2 KiB.
const maxIDToken = 8 << 10

// OIDCRequest is the body of POST /auth/oidc.
type OIDCRequest struct {
	IDToken string `json:"id_token"`
}

type oidcSet struct {
	providers map[string]*oidcProvider
}

type oidcProvider struct {
	cfg OIDCProvider

	mu       sync.Mutex // guards following
	verifier *oidc.IDTokenVerifier
}

func newOIDCSet(ps []OIDCProvider) (*oidcSet, error) {
	set := &oidcSet{providers: map[string]*oidcProvider{}}
	for _, p := range ps {
		u, err := url.Parse(p.Issuer)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return nil, fmt.Errorf("oidc issuer %q is not an http(s) URL", p.Issuer)
		}
		if p.ClientID == "" {
			return nil, fmt.Errorf("oidc issuer %q has no client id", p.Issuer)
		}
		set.providers[p.Issuer] = &oidcProvider{cfg: p}
	}
	return set, nil
}

func (p *oidcProvider) getVerifier(ctx context.Context) (*oidc.IDTokenVerifier, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.verifier != nil {
		return p.verifier, nil
	}
	// The key set outlives this request: give it a background context
	// carrying a client with a timeout.
	bg := oidc.ClientContext(context.Background(), &http.Client{Timeout: oidcHTTPTimeout})
	conf := &oidc.Config{ClientID: p.cfg.ClientID, SupportedSigningAlgs: []string{oidc.RS256, oidc.ES256, oidc.EdDSA}}
	if p.cfg.JWKSURL != "" {
		p.verifier = oidc.NewVerifier(p.cfg.Issuer, oidc.NewRemoteKeySet(bg, p.cfg.JWKSURL), conf)
		return p.verifier, nil
	}
	dctx, cancel := context.WithTimeout(oidc.ClientContext(ctx, &http.Client{Timeout: oidcHTTPTimeout}), oidcHTTPTimeout)
	defer cancel()
	prov, err := oidc.NewProvider(dctx, p.cfg.Issuer)
	if err != nil {
		return nil, fmt.Errorf("oidc discovery: %w", err)
	}
	var meta struct {
		JWKS string `json:"jwks_uri"`
	}
	if err := prov.Claims(&meta); err != nil || meta.JWKS == "" {
		return nil, fmt.Errorf("oidc discovery: no jwks_uri")
	}
	p.verifier = oidc.NewVerifier(p.cfg.Issuer, oidc.NewRemoteKeySet(bg, meta.JWKS), conf)
	return p.verifier, nil
}

// unverifiedIssuer reads "iss" only to pick the provider whose keys then verify the token.
func unverifiedIssuer(tok string) (string, bool) {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return "", false
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return "", false
	}
	var c struct {
		Iss string `json:"iss"`
	}
	if json.Unmarshal(b, &c) != nil || c.Iss == "" {
		return "", false
	}
	return c.Iss, true
}

func (s *Service) oidcLogin(w http.ResponseWriter, r *http.Request) error {
	var req OIDCRequest
	if err := httpx.DecodeJSON(w, r, &req, maxOIDCBody); err != nil {
		return err
	}
	if len(s.oidc.providers) == 0 {
		return httpx.Errorf(http.StatusNotFound, httpx.CodeNotFound, "no OpenID Connect issuers are configured")
	}
	if req.IDToken == "" || len(req.IDToken) > maxIDToken {
		return httpx.BadRequest("id_token is required and at most %d bytes", maxIDToken)
	}
	if err := s.allow(r, s.ipLimit, "oidc", ""); err != nil {
		return err
	}
	ctx := r.Context()
	iss, ok := unverifiedIssuer(req.IDToken)
	prov := s.oidc.providers[iss]
	if !ok || prov == nil {
		s.oidcRejected(ctx, "unknown_issuer")
		return httpx.Unauthenticated("id_token from an unknown issuer")
	}
	v, err := prov.getVerifier(ctx)
	if err != nil {
		s.log().WarnContext(ctx, "oidc provider unavailable", "issuer", iss, "err", err)
		return httpx.Unavailable("identity provider unavailable")
	}
	idt, err := v.Verify(ctx, req.IDToken)
	if err != nil {
		s.oidcRejected(ctx, "invalid_token")
		return httpx.Unauthenticated("invalid id_token")
	}
	// Link to the caller's account when they are logged in already.
	linkTo := ""
	if tok, ok := httpx.BearerToken(r); ok {
		c, err := s.cfg.Verifier.VerifyAccess(tok, s.now())
		if err != nil {
			return httpx.Unauthenticated("invalid or expired token")
		}
		linkTo = c.PlayerID()
	}
	now := s.now()
	sess := s.newSession(now)
	var playerID string
	created := false
	err = s.db.RunTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		created = false
		err := tx.QueryRow(ctx, `SELECT i.player_id::TEXT FROM identities i JOIN players p ON p.id = i.player_id
			WHERE i.issuer = $1 AND i.subject = $2 AND p.deleted_at IS NULL`, idt.Issuer, idt.Subject).Scan(&playerID)
		switch {
		case err == nil:
			if linkTo != "" && linkTo != playerID {
				return httpx.Conflict(httpx.CodeConflict, "this identity is linked to another player")
			}
		case errors.Is(err, pgx.ErrNoRows):
			playerID = linkTo
			if playerID == "" {
				playerID = uuid.NewString()
				created = true
				name := generatedUsername("player_")
				if _, err := tx.Exec(ctx, `INSERT INTO players (id, username, username_norm, auth_provider_id) VALUES ($1, $2, $2, $3)`, playerID, name, "oidc:"+idt.Issuer); err != nil {
					return err
				}
			}
			if _, err := tx.Exec(ctx, `INSERT INTO identities (issuer, subject, player_id) VALUES ($1, $2, $3)`, idt.Issuer, idt.Subject, playerID); err != nil {
				return err
			}
			if err := audit.Write(ctx, tx, audit.Event{Kind: audit.IdentityLinked, PlayerID: playerID, Actor: "player", Details: map[string]any{"issuer": idt.Issuer, "created": created}}); err != nil {
				return err
			}
		default:
			return err
		}
		return sess.store(ctx, tx, playerID)
	})
	var he *httpx.Error
	switch {
	case errors.As(err, &he):
		return err
	case db.IsUniqueViolation(err, ""):
		return httpx.Conflict(httpx.CodeConflict, "this identity was linked concurrently; retry")
	case err != nil:
		return fmt.Errorf("oidc login: %w", err)
	}
	return s.writeSession(w, playerID, sess, now, created)
}

func (s *Service) oidcRejected(ctx context.Context, reason string) {
	s.reject(ctx, audit.IdentityRejected, "", reason, map[string]any{"reason": reason})
}
