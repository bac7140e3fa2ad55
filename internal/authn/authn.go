// Package authn owns request authentication: players' bearer access tokens,
// per-cell service credentials and the operators' admin token.
package authn

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"net/http"
	"regexp"
	"time"

	"github.com/atollgg/atoll/internal/httpx"
	"github.com/atollgg/atoll/internal/tokens"
)

type playerKey struct{}
type serviceKey struct{}

// Middleware wraps a handler.
type Middleware func(httpx.HandlerFunc) httpx.HandlerFunc

// Player requires a valid access token and puts its claims in the context.
// The error never says why a token was refused: that helps attackers only.
func Player(v *tokens.Verifier) Middleware {
	return func(next httpx.HandlerFunc) httpx.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) error {
			tok, ok := httpx.BearerToken(r)
			if !ok {
				return httpx.Unauthenticated("missing bearer token")
			}
			c, err := v.VerifyAccess(tok, time.Now())
			if err != nil {
				if errors.Is(err, tokens.ErrKeysUnavailable) {
					return httpx.Unavailable("token keys unavailable")
				}
				return httpx.Unauthenticated("invalid or expired token")
			}
			return next(w, r.WithContext(context.WithValue(r.Context(), playerKey{}, c)))
		}
	}
}

// PlayerFrom returns the caller's verified claims.
func PlayerFrom(ctx context.Context) (*tokens.AccessClaims, bool) {
	c, ok := ctx.Value(playerKey{}).(*tokens.AccessClaims)
	return c, ok
}

// PlayerID returns the caller's player id, or "" when unauthenticated.
func PlayerID(ctx context.Context) string {
	if c, ok := PlayerFrom(ctx); ok {
		return c.PlayerID()
	}
	return ""
}

// MinSecretLength: shared secrets shorter than 128 bits can be brute-forced
// over the network given enough time.
const MinSecretLength = 16

// Secrets maps a principal (a cell id) to its shared secret.
type Secrets map[string]string

var principalName = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,63}$`)

// ParseSecrets reads "id=secret,id2=secret2" (ATOLL_CELL_TOKENS) and drops
// any scopes listed after a secret; ParseCredentials keeps them. Error
// messages name the entry, never the secret.
func ParseSecrets(spec string) (Secrets, error) {
	s, _, err := ParseCredentials(spec)
	return s, err
}

// Match returns the principal whose secret equals presented. Every secret is
// compared in constant time, so timing reveals neither which id matched nor
// how much of a secret was right.
func (s Secrets) Match(presented string) (string, bool) {
	ph := sha256.Sum256([]byte(presented))
	found := ""
	for id, secret := range s {
		sh := sha256.Sum256([]byte(secret))
		if subtle.ConstantTimeCompare(ph[:], sh[:]) == 1 {
			found = id
		}
	}
	return found, found != ""
}

// Service requires a bearer credential from secrets and records the
// principal in the context. Players' access tokens are refused here.
func Service(secrets Secrets) Middleware {
	return func(next httpx.HandlerFunc) httpx.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) error {
			tok, ok := httpx.BearerToken(r)
			if !ok {
				return httpx.Unauthenticated("missing service credential")
			}
			id, ok := secrets.Match(tok)
			if !ok {
				return httpx.Unauthenticated("invalid service credential")
			}
			return next(w, r.WithContext(context.WithValue(r.Context(), serviceKey{}, id)))
		}
	}
}

// ServiceFrom returns the authenticated service principal.
func ServiceFrom(ctx context.Context) (string, bool) {
	id, ok := ctx.Value(serviceKey{}).(string)
	return id, ok
}

// Admin requires the operators' admin token. An empty configured token
// disables the admin API entirely (403) rather than leaving it open.
func Admin(token string) Middleware {
	secrets := Secrets{"admin": token}
	return func(next httpx.HandlerFunc) httpx.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) error {
			if token == "" {
				return httpx.Forbidden("admin API disabled: ATOLL_ADMIN_TOKEN is not set")
			}
			tok, ok := httpx.BearerToken(r)
			if !ok {
				return httpx.Unauthenticated("missing admin token")
			}
			if _, ok := secrets.Match(tok); !ok {
				return httpx.Unauthenticated("invalid admin token")
			}
			return next(w, r.WithContext(context.WithValue(r.Context(), serviceKey{}, "admin")))
		}
	}
}
