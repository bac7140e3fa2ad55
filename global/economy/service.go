package economy

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/atollgg/atoll/internal/authn"
	"github.com/atollgg/atoll/internal/db"
	"github.com/atollgg/atoll/internal/tokens"
	"github.com/jackc/pgx/v5"
)

// Config is the economy service's whole configuration.
type Config struct {
	// DB is the global database. Required.
	DB *db.DB
	// Verifier checks players' access tokens. Required.
	Verifier *tokens.Verifier
	// Settings are the operator's currencies, catalog and progression.
	Settings Settings
	// AdminToken guards /admin; empty disables the admin API.
	AdminToken string
	// CellTokens are the service credentials allowed to call the internal
	// grant API; empty refuses every call.
	CellTokens authn.Secrets
	// CellScopes say what each cell token may do; nil means
	// authn.DefaultScopes for every cell. A cap on a premium currency is
	// refused at start: cells never grant premium currency.
	CellScopes authn.Scopes
	// Log is the logger. Required.
	Log *slog.Logger
	// Now is the clock for sale windows; nil means time.Now.
	Now func() time.Time
}

// Service is the economy: store, wallets, inventory, ledger, grants and
// progression. It starts no goroutines, so it needs no shutdown.
type Service struct {
	cfg        Config
	db         *db.DB
	log        *slog.Logger
	now        func() time.Time
	currencies currencySet
	levels     Levels
	catalog    *catalogCache
	offers     map[string]Offer
	offerList  []Offer
}

// seedTimeout bounds seeding and loading the catalog at start: a database
// that cannot insert a few hundred rows in this long is down, and start-up
// should fail with that error rather than hang.
const seedTimeout = 30 * time.Second

// New validates cfg, seeds the catalog from the configured file and loads
// it into memory.
func New(ctx context.Context, cfg Config) (*Service, error) {
	if cfg.DB == nil || cfg.Verifier == nil || cfg.Log == nil {
		return nil, errors.New("economy: database, token verifier and logger are required")
	}
	if err := cfg.Settings.Validate(); err != nil {
		return nil, fmt.Errorf("economy: %w", err)
	}
	cfg.Settings = cfg.Settings.withDefaults()
	if err := checkCellScopes(cfg.Settings, cfg.CellScopes); err != nil {
		return nil, fmt.Errorf("economy: %w", err)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	levels, err := NewLevels(cfg.Settings.XPThresholds)
	if err != nil {
		return nil, fmt.Errorf("economy: %w", err)
	}
	s := &Service{cfg: cfg, db: cfg.DB, log: cfg.Log, now: cfg.Now, currencies: newCurrencySet(cfg.Settings), levels: levels}
	sd, err := readSeed(cfg.Settings.CatalogFile, s.currencies)
	if err != nil {
		return nil, fmt.Errorf("economy: %w", err)
	}
	s.offers, s.offerList = sd.offers, sd.sortedOffers()
	ctx, cancel := context.WithTimeout(ctx, seedTimeout)
	defer cancel()
	added := 0
	if err := s.db.RunTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		added, err = sd.apply(ctx, tx)
		return err
	}); err != nil {
		return nil, fmt.Errorf("economy: seed catalog: %w", err)
	}
	s.catalog = &catalogCache{db: s.db, ttl: cfg.Settings.CatalogRefresh, now: s.now, log: s.log}
	if err := s.catalog.reload(ctx); err != nil {
		return nil, fmt.Errorf("economy: %w", err)
	}
	s.log.Info("economy ready", "currencies", s.currencies.codes, "catalog_items", len(s.catalog.snap.Load().sorted), "seeded", added, "topups", len(s.offerList))
	return s, nil
}

// Currencies lists the configured currencies.
func (s *Service) Currencies() []Currency {
	out := make([]Currency, 0, len(s.currencies.codes))
	for _, c := range s.currencies.codes {
		out = append(out, s.currencies.byCode[c])
	}
	return out
}

// Offer returns the top-up offer with id.
func (s *Service) Offer(id string) (Offer, bool) {
	o, ok := s.offers[id]
	return o, ok
}

// Offers lists the top-up offers, cheapest first.
func (s *Service) Offers() []Offer { return append([]Offer(nil), s.offerList...) }

// Item returns the catalog's item template id from the in-process cache.
func (s *Service) Item(ctx context.Context, id string) (Item, bool) {
	it, ok := s.catalog.get(ctx).item(id)
	if !ok {
		return Item{}, false
	}
	return *it, true
}

// ReloadCatalog rereads the catalog from the database now, e.g. after
// another process changed it.
func (s *Service) ReloadCatalog(ctx context.Context) error { return s.catalog.reload(ctx) }

// Levels returns the progression rules.
func (s *Service) Levels() Levels { return s.levels }
