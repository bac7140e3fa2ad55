package economy

import (
	"bytes"
	"context"
	_ "embed"
	"errors"
	"fmt"
	"os"
	"regexp"
	"sort"

	"github.com/atollgg/atoll/internal/httpx"
	"github.com/jackc/pgx/v5"
)

// DevCatalog is the development catalog shipped with Atoll, used when no
// catalog file is configured. Items purchasable with the default starting
// balance (1000 coins): DevStarterItems.
//
//go:embed devcatalog.json
var DevCatalog []byte

// DevStarterItems are dev-catalog items a new player can buy with the
// default starting balance, cheapest first, for demos and tests.
var DevStarterItems = []string{"arrow", "potion_health", "banner_starter", "sword_wooden", "hat_wizard"}

// maxSeedFile bounds the catalog file: 10,000 items of a few hundred bytes.
const maxSeedFile = 8 << 20

// SeedFile is the catalog file's format.
type SeedFile struct {
	Items  []ItemSpec `json:"items"`
	TopUps []Offer    `json:"topups"`
}

// Money is a real-money amount in minor units (cents) of an ISO 4217
// currency, written lower-case as payment gateways do ("usd").
type Money struct {
	Amount   int64  `json:"amount"`
	Currency string `json:"currency"`
}

// Offer is a real-money top-up of a premium currency.
type Offer struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	// Currency is the premium currency credited, Amount how much of it.
	Currency string `json:"currency"`
	Amount   int64  `json:"amount"`
	// Price is what the player pays through the gateway.
	Price Money `json:"price"`
}

var fiatCode = regexp.MustCompile(`^[a-z]{3}$`)

// maxOfferPrice bounds a top-up at 10,000.00 of any currency: more is a
// typo in the catalog file, not a price.
const maxOfferPrice = 1_000_000

func (o Offer) validate(cs currencySet) error {
	var errs []error
	if !itemIDPattern.MatchString(o.ID) {
		errs = append(errs, fmt.Errorf("top-up id %q: want 1-64 of a-z 0-9 _ . -", o.ID))
	}
	if p := nameProblem("name", o.Name, maxItemName); p != "" {
		errs = append(errs, fmt.Errorf("top-up %s: %s", o.ID, p))
	}
	if c, ok := cs.byCode[o.Currency]; !ok || !c.Premium {
		errs = append(errs, fmt.Errorf("top-up %s: currency %q is not a configured premium currency", o.ID, o.Currency))
	}
	if o.Amount < 1 || o.Amount > MaxAmount {
		errs = append(errs, fmt.Errorf("top-up %s: amount must be between 1 and %d", o.ID, int64(MaxAmount)))
	}
	if o.Price.Amount < 1 || o.Price.Amount > maxOfferPrice || !fiatCode.MatchString(o.Price.Currency) {
		errs = append(errs, fmt.Errorf("top-up %s: price must be 1-%d minor units of a lower-case ISO 4217 currency", o.ID, maxOfferPrice))
	}
	return errors.Join(errs...)
}

// seed is a validated catalog file.
type seed struct {
	items  []Item
	stock  map[string]int64
	offers map[string]Offer
}

// ParseSeed validates a catalog file against currencies (empty means the
// defaults).
func ParseSeed(data []byte, currencies []Currency) (*SeedFile, error) {
	s := Settings{Currencies: currencies}.withDefaults()
	_, f, err := parseSeed(data, newCurrencySet(s))
	return f, err
}

func parseSeed(data []byte, cs currencySet) (*seed, *SeedFile, error) {
	if len(data) > maxSeedFile {
		return nil, nil, fmt.Errorf("catalog file larger than %d bytes", maxSeedFile)
	}
	var f SeedFile
	if err := httpx.DecodeStrict(bytes.NewReader(data), &f); err != nil {
		var he *httpx.Error
		if errors.As(err, &he) {
			return nil, nil, fmt.Errorf("catalog file: %s", he.Message)
		}
		return nil, nil, fmt.Errorf("catalog file: %w", err)
	}
	if len(f.Items) > maxCatalogItems {
		return nil, nil, fmt.Errorf("catalog file: more than %d items", maxCatalogItems)
	}
	sd := &seed{stock: map[string]int64{}, offers: map[string]Offer{}}
	var errs []error
	seen := map[string]bool{}
	for _, spec := range f.Items {
		it, err := spec.toItem(cs)
		if err != nil {
			var he *httpx.Error
			if errors.As(err, &he) {
				err = errors.New(he.Message)
			}
			errs = append(errs, err)
			continue
		}
		if seen[it.ID] {
			errs = append(errs, fmt.Errorf("item %s listed twice", it.ID))
		}
		seen[it.ID] = true
		sd.items = append(sd.items, it)
		if spec.Stock != nil {
			sd.stock[it.ID] = *spec.Stock
		}
	}
	for _, o := range f.TopUps {
		if err := o.validate(cs); err != nil {
			errs = append(errs, err)
			continue
		}
		if _, dup := sd.offers[o.ID]; dup {
			errs = append(errs, fmt.Errorf("top-up %s listed twice", o.ID))
		}
		sd.offers[o.ID] = o
	}
	if err := errors.Join(errs...); err != nil {
		return nil, nil, fmt.Errorf("catalog file: %w", err)
	}
	return sd, &f, nil
}

// readSeed loads the configured catalog file, or the embedded one.
func readSeed(path string, cs currencySet) (*seed, error) {
	data := DevCatalog
	if path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("read catalog file: %w", err)
		}
		data = b
	}
	sd, _, err := parseSeed(data, cs)
	if err != nil && path == "" {
		return nil, fmt.Errorf("%w (the embedded development catalog prices in coins and gems; configure those currencies or set a catalog file)", err)
	}
	return sd, err
}

// apply inserts the items that do not exist yet, with their stock.
func (sd *seed) apply(ctx context.Context, tx pgx.Tx) (int, error) {
	n := 0
	for _, it := range sd.items {
		added, err := upsertItem(ctx, tx, it, true)
		if err != nil {
			return n, err
		}
		if !added {
			continue
		}
		n++
		if st, ok := sd.stock[it.ID]; ok {
			if err := setStock(ctx, tx, it.ID, &st); err != nil {
				return n, err
			}
		}
	}
	return n, nil
}

// sortedOffers lists the top-up offers by price.
func (sd *seed) sortedOffers() []Offer {
	out := make([]Offer, 0, len(sd.offers))
	for _, o := range sd.offers {
		out = append(out, o)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Price.Amount != out[j].Price.Amount {
			return out[i].Price.Amount < out[j].Price.Amount
		}
		return out[i].ID < out[j].ID
	})
	return out
}
