package authn

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/atollgg/atoll/internal/httpx"
)

// Scopes a service credential may hold. A credential's scopes are listed
// after its secret in ATOLL_CELL_TOKENS, separated by spaces:
//
//	eu-1=<secret> ratings:read results:apply grant:coins:500
//
// A credential listed without scopes holds DefaultScopes.
const (
	// ScopeRatingsRead reads players' ratings (GET /internal/v1/ratings).
	ScopeRatingsRead = "ratings:read"
	// ScopeResultsApply applies a match's rewards
	// (POST /internal/v1/economy/grants): items, xp and non-premium
	// currencies up to the credential's per-currency cap.
	ScopeResultsApply = "results:apply"
	// ScopeLeaderboardsGrant writes server-side scores to global
	// leaderboards (POST /internal/v1/leaderboards/{name}/scores). No
	// credential holds it by default: cells feed boards through their
	// match results, so only a service that grants scores is given it.
	ScopeLeaderboardsGrant = "leaderboards:grant"
	// grantScopePrefix starts a per-currency cap, "grant:<currency>:<max>":
	// the most one reward may credit of that currency. A cap of 0 forbids
	// the currency. Premium currencies never take a cap: the economy refuses
	// such a configuration at start.
	grantScopePrefix = "grant:"
)

// DefaultRewardCap is the most one reward may credit of a non-premium
// currency when the credential names no cap for it: a match reward is tens
// to hundreds of soft currency, so a thousand leaves room while bounding
// what a leaked cell token can mint per call.
const DefaultRewardCap = 1000

// DefaultScopes are held by a credential listed without scopes.
func DefaultScopes() Permissions {
	return Permissions{Scopes: []string{ScopeRatingsRead, ScopeResultsApply}}
}

// Permissions are what one service credential may do.
type Permissions struct {
	// Scopes are the plain scopes held, e.g. ratings:read.
	Scopes []string
	// GrantCaps maps a currency to the most one reward may credit of it;
	// nil means DefaultRewardCap for every non-premium currency.
	GrantCaps map[string]int64
}

// Has reports whether p holds scope.
func (p Permissions) Has(scope string) bool { return slices.Contains(p.Scopes, scope) }

// GrantCap is the most one reward may credit of currency.
func (p Permissions) GrantCap(currency string) int64 {
	if c, ok := p.GrantCaps[currency]; ok {
		return c
	}
	return DefaultRewardCap
}

// Scopes maps a principal to its permissions; a principal absent from the
// map (or a nil map) holds DefaultScopes.
type Scopes map[string]Permissions

// For returns principal's permissions.
func (s Scopes) For(principal string) Permissions {
	if p, ok := s[principal]; ok {
		return p
	}
	return DefaultScopes()
}

var grantScope = regexp.MustCompile(`^grant:([a-z][a-z0-9_]{0,31}):([0-9]{1,13})$`)

// ParseScopes reads a credential's space-separated scope list.
func ParseScopes(fields []string) (Permissions, error) {
	var p Permissions
	for _, f := range fields {
		switch {
		case f == ScopeRatingsRead || f == ScopeResultsApply || f == ScopeLeaderboardsGrant:
			if !p.Has(f) {
				p.Scopes = append(p.Scopes, f)
			}
		case strings.HasPrefix(f, grantScopePrefix):
			m := grantScope.FindStringSubmatch(f)
			if m == nil {
				return p, fmt.Errorf("scope %q: want grant:<currency>:<max>", f)
			}
			n, _ := strconv.ParseInt(m[2], 10, 64)
			if p.GrantCaps == nil {
				p.GrantCaps = map[string]int64{}
			}
			if _, dup := p.GrantCaps[m[1]]; dup {
				return p, fmt.Errorf("scope %q: cap for %s listed twice", f, m[1])
			}
			p.GrantCaps[m[1]] = n
		default:
			return p, fmt.Errorf("unknown scope %q (want %s, %s, %s or grant:<currency>:<max>)", f, ScopeRatingsRead, ScopeResultsApply, ScopeLeaderboardsGrant)
		}
	}
	return p, nil
}

// ParseCredentials reads ATOLL_CELL_TOKENS: comma-separated entries
// "id=secret[ scope...]". An entry without scopes holds DefaultScopes, so
// the older "id=secret,id2=secret2" form keeps its meaning. Error messages
// name the entry, never the secret.
func ParseCredentials(spec string) (Secrets, Scopes, error) {
	secrets, scopes := Secrets{}, Scopes{}
	for i, part := range strings.Split(spec, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		id, rest, ok := strings.Cut(part, "=")
		if !ok || !principalName.MatchString(id) {
			return nil, nil, fmt.Errorf("entry %d: want id=token with a simple id", i+1)
		}
		fields := strings.Fields(rest)
		if len(fields) == 0 || len(fields[0]) < MinSecretLength {
			return nil, nil, fmt.Errorf("entry %q: token shorter than %d characters", id, MinSecretLength)
		}
		if _, dup := secrets[id]; dup {
			return nil, nil, fmt.Errorf("entry %q listed twice", id)
		}
		secrets[id] = fields[0]
		if len(fields) > 1 {
			p, err := ParseScopes(fields[1:])
			if err != nil {
				return nil, nil, fmt.Errorf("entry %q: %w", id, err)
			}
			scopes[id] = p
		}
	}
	return secrets, scopes, nil
}

type permissionsKey struct{}

// ServiceScoped is Service that also requires the credential to hold scope:
// a valid credential without it is answered 403 permission_denied. The
// principal's permissions go in the context (PermissionsFrom).
func ServiceScoped(secrets Secrets, scopes Scopes, scope string) Middleware {
	auth := Service(secrets)
	return func(next httpx.HandlerFunc) httpx.HandlerFunc {
		return auth(func(w http.ResponseWriter, r *http.Request) error {
			id, _ := ServiceFrom(r.Context())
			p := scopes.For(id)
			if !p.Has(scope) {
				return httpx.Forbidden("this credential lacks the " + scope + " scope")
			}
			return next(w, r.WithContext(context.WithValue(r.Context(), permissionsKey{}, p)))
		})
	}
}

// PermissionsFrom returns the permissions ServiceScoped put in the context.
func PermissionsFrom(ctx context.Context) (Permissions, bool) {
	p, ok := ctx.Value(permissionsKey{}).(Permissions)
	return p, ok
}
