package economy

import (
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Amount limits. Balances are BIGINT; bounding each operation keeps every
// sum far from overflow and catches a mistyped admin grant.
const (
	// MaxAmount bounds one credit or debit of one currency.
	MaxAmount = 1_000_000_000_000
	// MaxPurchaseQuantity bounds one purchase: a store sells a handful at a
	// time, and each non-stackable unit is its own inventory row.
	MaxPurchaseQuantity = 100
	// DefaultCatalogRefresh is how long another replica's catalog change may
	// take to show here: prices are served from memory on the hot path.
	DefaultCatalogRefresh = 30 * time.Second
)

// Currency is one in-game currency.
type Currency struct {
	// Code is the short name used in APIs, e.g. "coins".
	Code string
	// Premium currencies are bought with real money; only they may be the
	// currency of a top-up offer.
	Premium bool
}

// Settings is the operator-facing part of the economy's configuration, the
// part global.Config carries. Every field's zero value is usable.
type Settings struct {
	// Currencies are the game's currencies (ATOLL_CURRENCIES, e.g.
	// "coins,gems:premium"); empty means soft "coins" and premium "gems".
	Currencies []Currency
	// StartingBalances credit each new wallet (ATOLL_STARTING_BALANCES, e.g.
	// "coins=1000,gems=0"); nil means 1000 coins when Currencies is empty,
	// zero for every currency otherwise.
	StartingBalances map[string]int64
	// CatalogFile seeds the catalog (ATOLL_CATALOG_FILE); empty means the
	// development catalog embedded in this package. Seeding only adds items
	// that do not exist: the admin API's edits win.
	CatalogFile string
	// CatalogRefresh bounds how stale the in-process catalog may be
	// (ATOLL_CATALOG_REFRESH); zero means DefaultCatalogRefresh.
	CatalogRefresh time.Duration
	// XPThresholds[i] is the total xp needed for level i+2
	// (ATOLL_XP_THRESHOLDS, e.g. "100,300,600"); nil means DefaultXPThresholds.
	XPThresholds []int64
}

// DefaultCurrencies are used when Settings.Currencies is empty.
func DefaultCurrencies() []Currency {
	return []Currency{{Code: "coins"}, {Code: "gems", Premium: true}}
}

var currencyCode = regexp.MustCompile(`^[a-z][a-z0-9_]{0,31}$`)

// withDefaults returns s with zero values replaced.
func (s Settings) withDefaults() Settings {
	if len(s.Currencies) == 0 {
		s.Currencies = DefaultCurrencies()
		if s.StartingBalances == nil {
			s.StartingBalances = map[string]int64{"coins": 1000}
		}
	}
	if s.CatalogRefresh == 0 {
		s.CatalogRefresh = DefaultCatalogRefresh
	}
	if s.XPThresholds == nil {
		s.XPThresholds = DefaultXPThresholds()
	}
	return s
}

// Validate reports every problem with s at once.
func (s Settings) Validate() error {
	s = s.withDefaults()
	var errs []error
	seen := map[string]bool{}
	for _, c := range s.Currencies {
		if !currencyCode.MatchString(c.Code) {
			errs = append(errs, fmt.Errorf("currency %q: want a lower-case code like coins", c.Code))
		}
		if seen[c.Code] {
			errs = append(errs, fmt.Errorf("currency %q listed twice", c.Code))
		}
		seen[c.Code] = true
	}
	for code, amt := range s.StartingBalances {
		if !seen[code] {
			errs = append(errs, fmt.Errorf("starting balance for unknown currency %q", code))
		}
		if amt < 0 || amt > MaxAmount {
			errs = append(errs, fmt.Errorf("starting balance of %s must be between 0 and %d", code, int64(MaxAmount)))
		}
	}
	if s.CatalogRefresh < time.Second {
		errs = append(errs, errors.New("catalog refresh must be at least 1s"))
	}
	if _, err := NewLevels(s.XPThresholds); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// ParseCurrencies reads ATOLL_CURRENCIES: "coins,gems:premium".
func ParseCurrencies(spec string) ([]Currency, error) {
	var out []Currency
	for _, part := range strings.Split(spec, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		code, flag, hasFlag := strings.Cut(part, ":")
		c := Currency{Code: code}
		if hasFlag {
			if flag != "premium" {
				return nil, fmt.Errorf("currency %q: unknown flag %q (want premium)", code, flag)
			}
			c.Premium = true
		}
		if !currencyCode.MatchString(code) {
			return nil, fmt.Errorf("currency %q: want a lower-case code like coins", code)
		}
		out = append(out, c)
	}
	return out, nil
}

// ParseAmounts reads ATOLL_STARTING_BALANCES: "coins=1000,gems=0".
func ParseAmounts(spec string) (map[string]int64, error) {
	out := map[string]int64{}
	for _, part := range strings.Split(spec, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		code, v, ok := strings.Cut(part, "=")
		if !ok {
			return nil, fmt.Errorf("starting balance %q: want currency=amount", part)
		}
		n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		if err != nil || n < 0 || n > MaxAmount {
			return nil, fmt.Errorf("starting balance %q: want an amount between 0 and %d", part, int64(MaxAmount))
		}
		out[strings.TrimSpace(code)] = n
	}
	return out, nil
}

// ParseThresholds reads ATOLL_XP_THRESHOLDS: "100,300,600".
func ParseThresholds(spec string) ([]int64, error) {
	var out []int64
	for _, part := range strings.Split(spec, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		n, err := strconv.ParseInt(part, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("xp threshold %q: not an integer", part)
		}
		out = append(out, n)
	}
	if _, err := NewLevels(out); err != nil {
		return nil, err
	}
	return out, nil
}

// currencySet is the configured currencies, for lookups on the hot path.
type currencySet struct {
	byCode map[string]Currency
	codes  []string // sorted
	start  []int64  // starting balance of codes[i]
}

func newCurrencySet(s Settings) currencySet {
	cs := currencySet{byCode: map[string]Currency{}}
	for _, c := range s.Currencies {
		cs.byCode[c.Code] = c
		cs.codes = append(cs.codes, c.Code)
	}
	sort.Strings(cs.codes)
	for _, c := range cs.codes {
		cs.start = append(cs.start, s.StartingBalances[c])
	}
	return cs
}

func (cs currencySet) known(code string) bool { _, ok := cs.byCode[code]; return ok }
