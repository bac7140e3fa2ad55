package players_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/atollgg/atoll/global"
	"github.com/atollgg/atoll/global/globaltest"
	"github.com/atollgg/atoll/global/players"
	"github.com/atollgg/atoll/internal/dbtest"
	"github.com/atollgg/atoll/internal/pii"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

func key(b byte) string { return pii.EncodeKey(bytes.Repeat([]byte{b}, 32)) }

func TestResealEmailsAfterKeyRotation(t *testing.T) {
	idx := key(9)
	c := globaltest.Start(t, func(cfg *global.Config) { cfg.PIIKeys, cfg.PIIIndexKey = "old:"+key(1), idx })
	for _, u := range []string{"ivan", "judy", "mallory"} {
		c.Register(t, u, u+"@example.com", "correct horse battery")
	}
	ctx := context.Background()
	ring, err := pii.ParseKeys("new:" + key(2) + ",old:" + key(1))
	if err != nil {
		t.Fatal(err)
	}
	n, err := players.ResealEmails(ctx, c.DB, ring)
	if err != nil || n != 3 {
		t.Fatalf("resealed %d (err %v), want 3", n, err)
	}
	rows, err := c.DB.Pool.Query(ctx, `SELECT id::TEXT, email_enc FROM players`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	newOnly, _ := pii.ParseKeys("new:" + key(2))
	for rows.Next() {
		var id, sealed string
		if err := rows.Scan(&id, &sealed); err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(sealed, "v1.new.") {
			t.Fatalf("row %s still sealed with the old key: %s", id, sealed)
		}
		if pt, err := newOnly.Open(sealed, []byte(id)); err != nil || !strings.HasSuffix(string(pt), "@example.com") {
			t.Fatalf("open with the new key alone: %q %v", pt, err)
		}
	}
	if n, err := players.ResealEmails(ctx, c.DB, ring); err != nil || n != 0 {
		t.Fatalf("second pass resealed %d (err %v), want 0", n, err)
	}
}
