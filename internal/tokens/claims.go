package tokens

import (
	"errors"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Token uses. Every token Atoll signs carries one in its "token_use" claim
// and every Verifier accepts exactly one, so a token minted for one purpose
// is refused everywhere else (a connect token is never an access token).
const (
	// TokenUseAccess marks a player access token issued by the global core.
	TokenUseAccess = "access"
	// TokenUseConnect marks a connect token a cell issues for one game server.
	TokenUseConnect = "connect"
)

// TypedClaims are claims that carry a token use. Sign and VerifyInto take
// them, so no token can be signed or accepted without stating its purpose.
type TypedClaims interface {
	jwt.Claims
	GetTokenUse() string
}

// Claims are the registered JWT claims plus the token use; token kinds embed
// it.
type Claims struct {
	jwt.RegisteredClaims
	TokenUse string `json:"token_use"`
}

// GetTokenUse returns the "token_use" claim.
func (c *Claims) GetTokenUse() string { return c.TokenUse }

// AccessClaims are the claims of a player access token; the subject is the
// player id.
type AccessClaims struct {
	Claims
}

// PlayerID returns the player the token was issued to.
func (c *AccessClaims) PlayerID() string { return c.Subject }

// Validate is run by the Verifier once the signature checks out.
func (c *AccessClaims) Validate() error {
	if c.Subject == "" {
		return errors.New("missing subject")
	}
	return nil
}

// DefaultConnectTTL is how long a connect token lives when the cell does not
// say. The player connects within seconds of being matched; a minute covers a
// slow client loading the level while keeping a leaked token nearly useless.
const DefaultConnectTTL = time.Minute

// ConnectClaims are the claims of a connect token: a cell's permission for
// one player to join one session on one game server. The subject is the
// player id and the audience is the server id, so a token for one server is
// refused by every other.
type ConnectClaims struct {
	Claims
	SessionID string `json:"sid"`
	ServerID  string `json:"srv"`
	// Forward is the game server's address sealed for the region's relays
	// (contract.SealAddr) when the cell forwards play through them; zero
	// means players connect to the server directly.
	Forward string `json:"fwd,omitempty"`
}

// NewConnectClaims returns the claims of a connect token issued at now by
// issuer (the cell). ttl zero means DefaultConnectTTL.
func NewConnectClaims(issuer, serverID, sessionID, playerID string, now time.Time, ttl time.Duration) *ConnectClaims {
	if ttl == 0 {
		ttl = DefaultConnectTTL
	}
	return &ConnectClaims{
		Claims: Claims{
			RegisteredClaims: jwt.RegisteredClaims{
				Issuer:    issuer,
				Subject:   playerID,
				Audience:  jwt.ClaimStrings{serverID},
				IssuedAt:  jwt.NewNumericDate(now),
				NotBefore: jwt.NewNumericDate(now),
				ExpiresAt: jwt.NewNumericDate(now.Add(ttl)),
				ID:        newTokenID(),
			},
			TokenUse: TokenUseConnect,
		},
		SessionID: sessionID,
		ServerID:  serverID,
	}
}

// PlayerID returns the player allowed to connect.
func (c *ConnectClaims) PlayerID() string { return c.Subject }

// Validate is run by the Verifier once the signature checks out.
func (c *ConnectClaims) Validate() error {
	switch {
	case c.Subject == "":
		return errors.New("missing subject")
	case c.SessionID == "":
		return errors.New("missing session id")
	case c.ServerID == "":
		return errors.New("missing server id")
	case len(c.Audience) != 1 || c.Audience[0] != c.ServerID:
		return errors.New("audience is not the server id")
	}
	return nil
}
