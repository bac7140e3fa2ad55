package matchmaking

import (
	"errors"
	"time"

	"github.com/atollgg/atoll/internal/tokens"
	"github.com/golang-jwt/jwt/v5"
)

// TokenUseParty marks a party token: a member's consent, signed by the cell,
// to be queued by one leader in one mode.
const TokenUseParty = "party"

// PartyTokenTTL is a party token's lifetime: members consent moments before
// the leader joins, and a short life keeps a leaked consent from being
// replayed later.
const PartyTokenTTL = 2 * time.Minute

// PartyClaims are the claims of a party token. The subject is the member,
// the audience the cell.
type PartyClaims struct {
	tokens.Claims
	Leader    string `json:"ldr"`
	Mode      string `json:"mode"`
	LatencyMs int    `json:"lat"`
}

// Validate is run by the verifier once the signature checks out.
func (c *PartyClaims) Validate() error {
	switch {
	case c.Subject == "":
		return errors.New("missing subject")
	case c.Leader == "" || c.Mode == "":
		return errors.New("missing leader or mode")
	case c.Leader == c.Subject:
		return errors.New("member is the leader")
	}
	return nil
}

func (s *Service) signParty(member, leader, mode string, latencyMs int, now time.Time) (string, time.Time, error) {
	exp := now.Add(PartyTokenTTL)
	c := &PartyClaims{
		Claims: tokens.Claims{
			RegisteredClaims: jwt.RegisteredClaims{
				Issuer:    s.cfg.Issuer,
				Subject:   member,
				Audience:  jwt.ClaimStrings{s.cfg.CellID},
				IssuedAt:  jwt.NewNumericDate(now),
				NotBefore: jwt.NewNumericDate(now),
				ExpiresAt: jwt.NewNumericDate(exp),
			},
			TokenUse: TokenUseParty,
		},
		Leader: leader, Mode: mode, LatencyMs: latencyMs,
	}
	tok, err := s.cfg.ConnectKeys.Sign(c)
	return tok, exp, err
}
