package matches_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/atollgg/atoll/contract"
)

// TestConcurrentApplications applies distinct matches of the same players
// and duplicates of one match at once, as several consumers or a redelivery
// racing the first delivery would: the database's retries serialize them,
// and every match counts exactly once.
func TestConcurrentApplications(t *testing.T) {
	c := startCore(t)
	ctx := context.Background()
	a, b := c.Guest(t), c.Guest(t)
	const distinct, duplicates = 4, 3
	var events []contract.MatchCompleted
	for i := range distinct {
		ev := match("duel", time.Now().UTC().Add(time.Duration(i)*time.Second), result(a.ID, 0, 1, 10), result(b.ID, 1, 2, 0))
		for range duplicates {
			events = append(events, ev)
		}
	}
	var wg sync.WaitGroup
	errs := make(chan error, len(events))
	for _, ev := range events {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- apply(t, c, ev)
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("concurrent apply: %v", err)
		}
	}
	var games int
	var xp int64
	if err := c.DB.Pool.QueryRow(ctx, `SELECT r.games, p.xp FROM ratings AS r JOIN players AS p ON p.id = r.player_id
		WHERE r.player_id = $1 AND r.mode = 'duel'`, a.ID).Scan(&games, &xp); err != nil {
		t.Fatal(err)
	}
	if games != distinct || xp != distinct*150 {
		t.Fatalf("%d games and %d xp, want %d and %d", games, xp, distinct, distinct*150)
	}
	page, err := c.Matches.History(ctx, b.ID, 100, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Matches) != distinct {
		t.Fatalf("%d history rows, want %d", len(page.Matches), distinct)
	}
	mustReconcile(t, c, a.ID, b.ID)
}
