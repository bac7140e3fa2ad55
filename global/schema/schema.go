// Package schema owns the global database's schema: the ordered migrations
// of every global service and the multi-region layout on CockroachDB.
package schema

import (
	"context"
	"embed"
	"fmt"
	"io/fs"

	"github.com/atollgg/atoll/internal/db"
)

//go:embed migrations/*.sql
var files embed.FS

// Component is the name the global core's migrations are recorded under.
const Component = "global"

// Migrations returns the embedded migration files.
func Migrations() fs.FS {
	sub, err := fs.Sub(files, "migrations")
	if err != nil {
		panic(err) // the embed pattern guarantees the directory exists
	}
	return sub
}

// Apply runs pending migrations.
func Apply(ctx context.Context, d *db.DB) error {
	if _, err := d.Migrate(ctx, Component, Migrations()); err != nil {
		return fmt.Errorf("migrate global schema: %w", err)
	}
	return nil
}

// RegionalByRow lists tables whose rows live in their player's home region.
var RegionalByRow = []string{"players", "devices", "identities", "refresh_tokens", "refresh_families",
	"wallets", "inventory_items", "transactions", "economy_requests", "payments"}

// Global lists read-mostly tables served from every region at local latency.
var Global = []string{"item_templates"}

// Layout returns the multi-region layout for database in the given regions.
func Layout(database, primary string, regions []string) db.MultiRegion {
	return db.MultiRegion{Database: database, PrimaryRegion: primary, Regions: regions, RegionalByRow: RegionalByRow, Global: Global}
}
