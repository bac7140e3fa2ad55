// Package audit owns the global core's security audit log: login failures,
// token reuse, deletions and every operator action.
package audit

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/jackc/pgx/v5/pgconn"
)

// Kinds of audited events. Stable: dashboards and alerts match on them.
const (
	LoginFailed      = "auth.login_failed"
	LoginSucceeded   = "auth.login"
	Registered       = "auth.registered"
	RefreshReuse     = "auth.refresh_reuse"
	Logout           = "auth.logout"
	RateLimited      = "auth.rate_limited"
	AccountDeleted   = "player.deleted"
	DataExported     = "player.exported"
	IdentityLinked   = "auth.identity_linked"
	AdminAction      = "admin.action"
	EconomyGrant     = "economy.grant"
	PaymentEvent     = "economy.payment"
	ServiceCall      = "service.call"
	IdentityRejected = "auth.oidc_rejected"
)

// Event is one audit record. Details must never carry tokens, passwords or
// PII such as emails or IP addresses.
type Event struct {
	Kind string
	// PlayerID is the subject player; empty when there is none (e.g. unknown user).
	PlayerID string
	// Actor is who acted: "player", "admin", "cell:<id>", "system".
	Actor   string
	Details map[string]any
}

// Execer is satisfied by a pool, a connection and a transaction, so an audit
// record can commit atomically with the change it describes.
type Execer interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// Write inserts e using q.
func Write(ctx context.Context, q Execer, e Event) error {
	details := e.Details
	if details == nil {
		details = map[string]any{}
	}
	b, err := json.Marshal(details)
	if err != nil {
		return fmt.Errorf("audit %s: encode details: %w", e.Kind, err)
	}
	var pid any
	if e.PlayerID != "" {
		pid = e.PlayerID
	}
	if _, err := q.Exec(ctx, `INSERT INTO audit_log (kind, player_id, actor, details) VALUES ($1, $2, $3, $4)`, e.Kind, pid, e.Actor, string(b)); err != nil {
		return fmt.Errorf("audit %s: %w", e.Kind, err)
	}
	return nil
}
