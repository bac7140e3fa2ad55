package players

import (
	"context"
	"fmt"

	"github.com/atollgg/atoll/internal/db"
	"github.com/atollgg/atoll/internal/pii"
	"github.com/jackc/pgx/v5"
)

// resealBatch bounds one re-encryption transaction: small enough to keep
// transactions short on CockroachDB, large enough to finish a big table.
const resealBatch = 200

// ResealEmails re-encrypts, with the active key, every email sealed with an
// older one: the rotation path after a new key is put first in
// ATOLL_PII_KEYS. Once it reports 0 the old key can be removed. It returns
// how many rows it re-sealed.
func ResealEmails(ctx context.Context, d *db.DB, ring *pii.Keyring) (int, error) {
	prefix := "v1." + ring.ActiveID() + ".%"
	total := 0
	after := "00000000-0000-0000-0000-000000000000"
	for {
		n := 0
		last := after
		err := d.RunTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
			n, last = 0, after
			rows, err := tx.Query(ctx, `SELECT id::TEXT, email_enc FROM players WHERE id > $1 AND email_enc IS NOT NULL AND email_enc NOT LIKE $2
				ORDER BY id LIMIT $3 FOR UPDATE`, after, prefix, resealBatch)
			if err != nil {
				return err
			}
			type item struct{ id, sealed string }
			var items []item
			for rows.Next() {
				var it item
				if err := rows.Scan(&it.id, &it.sealed); err != nil {
					rows.Close()
					return err
				}
				items = append(items, it)
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return err
			}
			for _, it := range items {
				fresh, changed, err := ring.Reseal(it.sealed, []byte(it.id))
				if err != nil {
					return fmt.Errorf("player %s: %w", it.id, err)
				}
				last = it.id
				if !changed {
					continue
				}
				if _, err := tx.Exec(ctx, `UPDATE players SET email_enc = $2 WHERE id = $1`, it.id, fresh); err != nil {
					return err
				}
				n++
			}
			if len(items) == 0 {
				last = ""
			}
			return nil
		})
		if err != nil {
			return total, fmt.Errorf("reseal emails: %w", err)
		}
		total += n
		if last == "" {
			return total, nil
		}
		after = last
	}
}
