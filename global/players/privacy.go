package players

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"time"

	"github.com/atollgg/atoll/global/audit"
	"github.com/atollgg/atoll/internal/authn"
	"github.com/atollgg/atoll/internal/httpx"
	"github.com/jackc/pgx/v5"
)

// Export is everything Atoll stores about a player (GDPR art. 15/20).
type Export struct {
	ExportedAt time.Time      `json:"exported_at"`
	Profile    Profile        `json:"profile"`
	Devices    []ExportDevice `json:"devices"`
	Identities []ExportIdent  `json:"linked_identities"`
	Sessions   []ExportSess   `json:"sessions"`
	Audit      []ExportAudit  `json:"security_events"`
	Services   map[string]any `json:"services,omitempty"`
}

// ExportDevice describes a linked device. Only a hash of its id is stored.
type ExportDevice struct {
	DeviceHash string    `json:"device_id_sha256"`
	CreatedAt  time.Time `json:"created_at"`
}

// ExportIdent is a linked external identity.
type ExportIdent struct {
	Issuer    string    `json:"issuer"`
	Subject   string    `json:"subject"`
	CreatedAt time.Time `json:"created_at"`
}

// ExportSess is one stored session: a refresh-token family (stored once it
// is first refreshed or logged out; UsedAt is its last refresh), or a
// refresh token issued before families (its hash is not exported).
type ExportSess struct {
	FamilyID  string     `json:"family_id"`
	IssuedAt  time.Time  `json:"issued_at"`
	ExpiresAt time.Time  `json:"expires_at"`
	UsedAt    *time.Time `json:"used_at,omitempty"`
	RevokedAt *time.Time `json:"revoked_at,omitempty"`
}

// ExportAudit is one security event about the player.
type ExportAudit struct {
	At      time.Time      `json:"at"`
	Kind    string         `json:"kind"`
	Actor   string         `json:"actor"`
	Details map[string]any `json:"details"`
}

// maxExportRows bounds each list so one export cannot exhaust memory; a
// player has far fewer devices or sessions than this.
const maxExportRows = 10000

func (s *Service) export(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	id := authn.PlayerID(ctx)
	row, err := s.load(ctx, id)
	if err != nil {
		return err
	}
	prof, err := s.ownerView(row)
	if err != nil {
		return err
	}
	ex := Export{ExportedAt: time.Now().UTC(), Profile: prof, Devices: []ExportDevice{}, Identities: []ExportIdent{}, Sessions: []ExportSess{}, Audit: []ExportAudit{}}
	q := s.cfg.DB.Pool
	if err := collect(ctx, q, `SELECT device_hash, created_at FROM devices WHERE player_id = $1 ORDER BY created_at LIMIT `+fmt.Sprint(maxExportRows), id, func(rows pgx.Rows) error {
		var d ExportDevice
		err := rows.Scan(&d.DeviceHash, &d.CreatedAt)
		ex.Devices = append(ex.Devices, d)
		return err
	}); err != nil {
		return err
	}
	if err := collect(ctx, q, `SELECT issuer, subject, created_at FROM identities WHERE player_id = $1 ORDER BY created_at LIMIT `+fmt.Sprint(maxExportRows), id, func(rows pgx.Rows) error {
		var d ExportIdent
		err := rows.Scan(&d.Issuer, &d.Subject, &d.CreatedAt)
		ex.Identities = append(ex.Identities, d)
		return err
	}); err != nil {
		return err
	}
	if err := collect(ctx, q, `SELECT family_id::TEXT, created_at, family_expires_at, updated_at, revoked_at FROM refresh_families WHERE player_id = $1
		UNION ALL SELECT family_id::TEXT, issued_at, expires_at, used_at, revoked_at FROM refresh_tokens WHERE player_id = $1
		ORDER BY 2 LIMIT `+fmt.Sprint(maxExportRows), id, func(rows pgx.Rows) error {
		var d ExportSess
		err := rows.Scan(&d.FamilyID, &d.IssuedAt, &d.ExpiresAt, &d.UsedAt, &d.RevokedAt)
		ex.Sessions = append(ex.Sessions, d)
		return err
	}); err != nil {
		return err
	}
	if err := collect(ctx, q, `SELECT at, kind, actor, details FROM audit_log WHERE player_id = $1 ORDER BY at LIMIT `+fmt.Sprint(maxExportRows), id, func(rows pgx.Rows) error {
		var d ExportAudit
		err := rows.Scan(&d.At, &d.Kind, &d.Actor, &d.Details)
		ex.Audit = append(ex.Audit, d)
		return err
	}); err != nil {
		return err
	}
	s.mu.Lock()
	names := make([]string, 0, len(s.exports))
	fns := map[string]ExportFunc{}
	for n, f := range s.exports {
		names = append(names, n)
		fns[n] = f
	}
	s.mu.Unlock()
	sort.Strings(names)
	if len(names) > 0 {
		ex.Services = map[string]any{}
	}
	for _, n := range names {
		v, err := fns[n](ctx, id)
		if err != nil {
			return fmt.Errorf("export %s: %w", n, err)
		}
		ex.Services[n] = v
	}
	if err := audit.Write(ctx, q, audit.Event{Kind: audit.DataExported, PlayerID: id, Actor: "player"}); err != nil {
		return err
	}
	w.Header().Set("Content-Disposition", `attachment; filename="atoll-export.json"`)
	w.Header().Set("Cache-Control", "no-store")
	httpx.WriteJSON(w, http.StatusOK, ex)
	return nil
}

func collect(ctx context.Context, q interface {
	Query(context.Context, string, ...any) (pgx.Rows, error)
}, sql, id string, scan func(pgx.Rows) error) error {
	rows, err := q.Query(ctx, sql, id)
	if err != nil {
		return fmt.Errorf("export query: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows); err != nil {
			return fmt.Errorf("export scan: %w", err)
		}
	}
	return rows.Err()
}

// erase removes the player's PII and credentials and leaves a tombstone row,
// so the id is never reused and ledger rows keep a valid foreign key.
func (s *Service) erase(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	id := authn.PlayerID(ctx)
	s.mu.Lock()
	erasers := make([]EraseFunc, 0, len(s.erasers))
	names := make([]string, 0, len(s.erasers))
	for n := range s.erasers {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		erasers = append(erasers, s.erasers[n])
	}
	s.mu.Unlock()
	found := false
	err := s.cfg.DB.RunTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE players SET username = 'deleted-' || id::TEXT, username_norm = 'deleted-' || id::TEXT,
			display_name = '', email_enc = NULL, email_idx = NULL, password_hash = NULL, profile_public = false, deleted_at = now()
			WHERE id = $1 AND deleted_at IS NULL`, id)
		if err != nil {
			return err
		}
		found = tag.RowsAffected() == 1
		if !found {
			return nil
		}
		for _, q := range []string{
			`DELETE FROM devices WHERE player_id = $1`,
			`DELETE FROM identities WHERE player_id = $1`,
			`UPDATE refresh_tokens SET revoked_at = now() WHERE player_id = $1 AND revoked_at IS NULL`,
			`UPDATE refresh_families SET revoked_at = now() WHERE player_id = $1 AND revoked_at IS NULL`,
		} {
			if _, err := tx.Exec(ctx, q, id); err != nil {
				return err
			}
		}
		for _, f := range erasers {
			if err := f(ctx, tx, id); err != nil {
				return err
			}
		}
		return audit.Write(ctx, tx, audit.Event{Kind: audit.AccountDeleted, PlayerID: id, Actor: "player"})
	})
	if err != nil {
		return fmt.Errorf("erase player: %w", err)
	}
	if !found {
		return httpx.NotFound("no such player")
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
