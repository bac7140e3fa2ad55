package db_test

import (
	"context"
	"errors"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/fstest"

	"github.com/atollgg/atoll/internal/db"
	"github.com/atollgg/atoll/internal/dbtest"
	"github.com/jackc/pgx/v5"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

func TestRunTxReportsCommitFailure(t *testing.T) {
	d := dbtest.Open(t)
	ctx := context.Background()
	if d.Dialect != db.Postgres {
		t.Skip("deferred constraints are a PostgreSQL feature; the CockroachDB path uses crdbpgx")
	}
	_, err := d.Pool.Exec(ctx, `
		CREATE TABLE parents (id INT PRIMARY KEY);
		CREATE TABLE children (id INT PRIMARY KEY, parent INT REFERENCES parents (id) DEFERRABLE INITIALLY DEFERRED)`)
	if err != nil {
		t.Fatal(err)
	}
	var attempts int
	err = d.RunTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		attempts++
		_, err := tx.Exec(ctx, `INSERT INTO children (id, parent) VALUES (1, 42)`)
		return err // the FK is checked only at COMMIT
	})
	if err == nil {
		t.Fatal("RunTx returned nil although COMMIT failed on a deferred constraint")
	}
	if !strings.Contains(err.Error(), "commit") {
		t.Fatalf("error should say the commit failed, got %v", err)
	}
	if attempts != 1 {
		t.Fatalf("a constraint failure is not retryable, ran %d times", attempts)
	}
	var n int
	if err := d.Pool.QueryRow(ctx, `SELECT count(*) FROM children`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("children rows = %d (err %v), want 0", n, err)
	}
}

func TestRunTxRetriesSerializationConflict(t *testing.T) {
	d := dbtest.Open(t)
	ctx := context.Background()
	if _, err := d.Pool.Exec(ctx, `CREATE TABLE counters (id INT PRIMARY KEY, n INT NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Pool.Exec(ctx, `INSERT INTO counters VALUES (1, 0), (2, 0)`); err != nil {
		t.Fatal(err)
	}
	// Classic write skew: each transaction reads both rows and writes one.
	// Under SERIALIZABLE one of them must fail with 40001 on its first
	// attempt; RunTx has to retry it to success. The channels force the
	// interleaving so the conflict happens every run.
	aRead, bRead := make(chan struct{}), make(chan struct{})
	var aAttempts, bAttempts atomic.Int32
	body := func(self int, attempts *atomic.Int32, mine, other chan struct{}) db.TxFunc {
		return func(ctx context.Context, tx pgx.Tx) error {
			n := attempts.Add(1)
			var sum int
			if err := tx.QueryRow(ctx, `SELECT sum(n) FROM counters`).Scan(&sum); err != nil {
				return err
			}
			if n == 1 {
				close(mine)
				<-other
			}
			_, err := tx.Exec(ctx, `UPDATE counters SET n = $1 + 1 WHERE id = $2`, sum, self)
			return err
		}
	}
	var wg sync.WaitGroup
	errs := make([]error, 2)
	wg.Add(2)
	go func() { defer wg.Done(); errs[0] = d.RunTx(ctx, body(1, &aAttempts, aRead, bRead)) }()
	go func() { defer wg.Done(); errs[1] = d.RunTx(ctx, body(2, &bAttempts, bRead, aRead)) }()
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("tx %d: %v", i, err)
		}
	}
	if total := aAttempts.Load() + bAttempts.Load(); total < 3 {
		t.Fatalf("expected a serialization failure and a retry, got %d attempts in total", total)
	}
	// Serial outcome: one saw 0 and wrote 1, the other saw 1 and wrote 2.
	var sum int
	if err := d.Pool.QueryRow(ctx, `SELECT sum(n) FROM counters`).Scan(&sum); err != nil {
		t.Fatal(err)
	}
	if sum != 3 {
		t.Fatalf("sum = %d, want 3 (a serial order of the two transactions)", sum)
	}
}

func TestRunTxDoesNotRetryOrdinaryErrors(t *testing.T) {
	d := dbtest.Open(t)
	sentinel := errors.New("business rule")
	var n int
	err := d.RunTx(context.Background(), func(context.Context, pgx.Tx) error { n++; return sentinel })
	if !errors.Is(err, sentinel) || n != 1 {
		t.Fatalf("err = %v after %d attempts, want the sentinel after 1", err, n)
	}
}

func migrationsFS(t *testing.T) fstest.MapFS {
	fs := fstest.MapFS{}
	for _, n := range []string{"0001_widgets.sql", "0002_widget_color.sql", "0003_only_crdb.crdb.sql"} {
		b, err := os.ReadFile("testdata/migrations/" + n)
		if err != nil {
			t.Fatal(err)
		}
		fs[n] = &fstest.MapFile{Data: b}
	}
	return fs
}

func TestMigrateConcurrentlyAppliesOnce(t *testing.T) {
	url := dbtest.URL(t)
	ctx := context.Background()
	const procs = 4
	var wg sync.WaitGroup
	results := make([][]int, procs)
	errs := make([]error, procs)
	for i := range procs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Separate pools stand in for separate processes starting at once.
			d, err := db.Open(ctx, db.Config{URL: url, MaxConns: 4})
			if err != nil {
				errs[i] = err
				return
			}
			defer d.Close()
			results[i], errs[i] = d.Migrate(ctx, "test", migrationsFS(t))
		}()
	}
	wg.Wait()
	applied := 0
	for i := range procs {
		if errs[i] != nil {
			t.Fatalf("migrator %d: %v", i, errs[i])
		}
		applied += len(results[i])
	}
	d, err := db.Open(ctx, db.Config{URL: url})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	want := 2
	if d.Dialect == db.Cockroach {
		want = 3
	}
	if applied != want {
		t.Fatalf("migrations applied %d times in total, want %d (exactly once each)", applied, want)
	}
	var rows int
	if err := d.Pool.QueryRow(ctx, `SELECT count(*) FROM widgets WHERE color = 'blue'`).Scan(&rows); err != nil || rows != 1 {
		t.Fatalf("widgets = %d (err %v), want the one seeded row", rows, err)
	}
	// Running again is a no-op.
	again, err := d.Migrate(ctx, "test", migrationsFS(t))
	if err != nil || len(again) != 0 {
		t.Fatalf("second Migrate applied %v, err %v", again, err)
	}
}

func TestLoadMigrationsRejectsBadNames(t *testing.T) {
	cases := map[string]fstest.MapFS{
		"bad name":    {"create.sql": {Data: []byte("SELECT 1")}},
		"dup version": {"0001_a.sql": {Data: []byte("SELECT 1")}, "0001_b.sql": {Data: []byte("SELECT 1")}},
	}
	for name, fs := range cases {
		t.Run(name, func(t *testing.T) {
			if _, err := db.LoadMigrations(fs); err == nil {
				t.Fatal("want an error")
			}
		})
	}
}

func TestMultiRegionStatements(t *testing.T) {
	tests := []struct {
		name    string
		in      db.MultiRegion
		want    []string
		wantErr bool
	}{
		{
			name: "three regions",
			in: db.MultiRegion{Database: "atoll", PrimaryRegion: "us-east1", Regions: []string{"europe-west1", "asia-northeast1", "us-east1"},
				RegionalByRow: []string{"players"}, Global: []string{"item_templates"}},
			want: []string{
				`ALTER DATABASE "atoll" SET PRIMARY REGION "us-east1"`,
				`ALTER DATABASE "atoll" ADD REGION IF NOT EXISTS "europe-west1"`,
				`ALTER DATABASE "atoll" ADD REGION IF NOT EXISTS "asia-northeast1"`,
				`ALTER TABLE "players" SET LOCALITY REGIONAL BY ROW`,
				`ALTER TABLE "item_templates" SET LOCALITY GLOBAL`,
			},
		},
		{
			name: "single region",
			in:   db.MultiRegion{Database: "atoll", PrimaryRegion: "eu-west1"},
			want: []string{`ALTER DATABASE "atoll" SET PRIMARY REGION "eu-west1"`},
		},
		{name: "no primary", in: db.MultiRegion{Database: "atoll"}, wantErr: true},
		{name: "injection in region", in: db.MultiRegion{Database: "atoll", PrimaryRegion: `x"; DROP TABLE players; --`}, wantErr: true},
		{name: "injection in table", in: db.MultiRegion{Database: "atoll", PrimaryRegion: "a", Global: []string{"t; DROP"}}, wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.in.Statements()
			if tc.wantErr {
				if err == nil {
					t.Fatalf("want error, got %q", got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Fatalf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}

func TestApplyMultiRegionIsNoOpOnPostgres(t *testing.T) {
	d := dbtest.Open(t)
	if d.Dialect != db.Postgres {
		t.Skip("PostgreSQL-only behaviour")
	}
	applied, err := d.ApplyMultiRegion(context.Background(), db.MultiRegion{Database: "x", PrimaryRegion: "a"})
	if err != nil || applied {
		t.Fatalf("applied=%v err=%v, want a no-op on PostgreSQL", applied, err)
	}
}
