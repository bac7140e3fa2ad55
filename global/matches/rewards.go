package matches

import (
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/atollgg/atoll/global/economy"
	"github.com/atollgg/atoll/global/ratings"
)

// Reward limits.
const (
	// maxRewardAmount bounds one currency or xp figure of a rule: a match
	// pays tens to thousands; a million is a typo.
	maxRewardAmount = 1_000_000
	// maxPlacements bounds a rule's placement bonuses: a lobby holds at
	// most maxPlayers sides.
	maxPlacements = maxPlayers
	// maxRewardSpec bounds ATOLL_MATCH_REWARDS, read at start.
	maxRewardSpec = 64 << 10
)

// AnyMode is the rule key for modes without a rule of their own.
const AnyMode = "*"

// Reward is xp and soft currency granted together.
type Reward struct {
	XP int64
	// Currencies maps a soft currency to an amount; nil means none.
	Currencies map[string]int64
}

func (r Reward) add(o Reward) Reward {
	out := Reward{XP: r.XP + o.XP, Currencies: maps.Clone(r.Currencies)}
	for c, n := range o.Currencies {
		if out.Currencies == nil {
			out.Currencies = map[string]int64{}
		}
		out.Currencies[c] += n
	}
	return out
}

func (r Reward) empty() bool {
	for _, n := range r.Currencies {
		if n != 0 {
			return false
		}
	}
	return r.XP == 0
}

// Rule is one game mode's rewards. A player's reward is Participation,
// plus Win for a win, plus Placement[p-1] for their side's placement p;
// Win and Placement need at least two sides.
type Rule struct {
	// Participation goes to every player in the match's results.
	Participation Reward
	// Win goes to the players of the side that placed first alone.
	Win Reward
	// Placement[i] goes to the players of a side placed i+1 (sides that
	// tie share the better placement); nil means no placement bonus.
	Placement []Reward
}

// For returns the reward of a player whose side placed placement among
// sides sides with the given outcome.
func (r Rule) For(placement, sides int, outcome string) Reward {
	out := Reward{}.add(r.Participation)
	if sides < 2 {
		return out
	}
	if outcome == OutcomeWin {
		out = out.add(r.Win)
	}
	if placement >= 1 && placement <= len(r.Placement) {
		out = out.add(r.Placement[placement-1])
	}
	return out
}

// Rewards maps a game mode (or AnyMode) to its rule.
type Rewards map[string]Rule

// Rule returns the rule of mode, falling back to AnyMode.
func (rw Rewards) Rule(mode string) (Rule, bool) {
	if r, ok := rw[mode]; ok {
		return r, true
	}
	r, ok := rw[AnyMode]
	return r, ok
}

// DefaultRewards is the rule set of the zero Settings: in every mode 100 xp
// and 10 of soft for playing, 50 xp and 10 more of soft for a win; soft ""
// leaves currency out.
func DefaultRewards(soft string) Rewards {
	r := Rule{Participation: Reward{XP: 100}, Win: Reward{XP: 50}}
	if soft != "" {
		r.Participation.Currencies = map[string]int64{soft: 10}
		r.Win.Currencies = map[string]int64{soft: 10}
	}
	return Rewards{AnyMode: r}
}

// Settings is the operator-facing part of the configuration, the part
// global.Config carries.
type Settings struct {
	// Rewards are the per-mode rewards (ATOLL_MATCH_REWARDS); nil means
	// DefaultRewards of the economy's first soft currency; an empty map
	// means no rewards (xp included) in any mode.
	Rewards Rewards
}

// Validate checks the rule set's shape; New also checks its currencies
// against the economy's.
func (s Settings) Validate() error {
	var errs []error
	for _, mode := range slices.Sorted(maps.Keys(s.Rewards)) {
		if mode != AnyMode && !ratings.ValidMode(mode) {
			errs = append(errs, fmt.Errorf("match rewards: %q is not a game mode name", mode))
		}
		r := s.Rewards[mode]
		if len(r.Placement) > maxPlacements {
			errs = append(errs, fmt.Errorf("match rewards %s: at most %d placement bonuses", mode, maxPlacements))
		}
		check := func(what string, rw Reward) {
			if rw.XP < 0 || rw.XP > maxRewardAmount {
				errs = append(errs, fmt.Errorf("match rewards %s: %s xp must be between 0 and %d", mode, what, maxRewardAmount))
			}
			for c, n := range rw.Currencies {
				if n < 0 || n > maxRewardAmount {
					errs = append(errs, fmt.Errorf("match rewards %s: %s %s must be between 0 and %d", mode, what, c, maxRewardAmount))
				}
			}
		}
		check("participation", r.Participation)
		check("win", r.Win)
		for i, p := range r.Placement {
			check(fmt.Sprintf("place%d", i+1), p)
		}
	}
	return errors.Join(errs...)
}

// checkCurrencies refuses currencies the economy does not have, and
// premium ones: premium currency is bought with money, never earned.
func (rw Rewards) checkCurrencies(known []economy.Currency) error {
	byCode := map[string]economy.Currency{}
	for _, c := range known {
		byCode[c.Code] = c
	}
	var errs []error
	for _, mode := range slices.Sorted(maps.Keys(rw)) {
		r := rw[mode]
		for _, rw := range append([]Reward{r.Participation, r.Win}, r.Placement...) {
			for code := range rw.Currencies {
				c, ok := byCode[code]
				switch {
				case !ok:
					errs = append(errs, fmt.Errorf("match rewards %s: unknown currency %q", mode, code))
				case c.Premium:
					errs = append(errs, fmt.Errorf("match rewards %s: %s is a premium currency; matches reward soft currency only", mode, code))
				}
			}
		}
	}
	return errors.Join(errs...)
}

// rewardKey is one key of a rule: xp or a currency, optionally prefixed by
// win. or placeN.
var rewardKey = regexp.MustCompile(`^(?:(win|place([1-9][0-9]{0,2}))\.)?([a-z][a-z0-9_]{0,31})$`)

// ParseRewards reads ATOLL_MATCH_REWARDS: rules separated by ";", each
// "mode:key=amount,...". Keys are xp or a currency code for participation,
// win.<key> for a win and place<N>.<key> for placing N; mode * is every
// mode without its own rule. "off" means no rewards. Example:
//
//	duel:xp=100,coins=10,win.xp=50,win.coins=20;ffa8:xp=80,place1.coins=30,place2.coins=15;*:xp=50
func ParseRewards(spec string) (Rewards, error) {
	if len(spec) > maxRewardSpec {
		return nil, fmt.Errorf("match rewards: longer than %d bytes", maxRewardSpec)
	}
	spec = strings.TrimSpace(spec)
	out := Rewards{}
	if strings.EqualFold(spec, "off") {
		return out, nil
	}
	for _, part := range strings.Split(spec, ";") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		mode, body, ok := strings.Cut(part, ":")
		mode = strings.TrimSpace(mode)
		if !ok || mode == "" {
			return nil, fmt.Errorf("match rewards %q: want mode:key=amount,...", part)
		}
		if _, dup := out[mode]; dup {
			return nil, fmt.Errorf("match rewards: mode %q listed twice", mode)
		}
		var r Rule
		for _, kv := range strings.Split(body, ",") {
			kv = strings.TrimSpace(kv)
			if kv == "" {
				continue
			}
			k, v, ok := strings.Cut(kv, "=")
			m := rewardKey.FindStringSubmatch(strings.TrimSpace(k))
			if !ok || m == nil {
				return nil, fmt.Errorf("match rewards %s: %q: want xp=N, <currency>=N, win.<key>=N or place<N>.<key>=N", mode, kv)
			}
			n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			if err != nil || n < 0 || n > maxRewardAmount {
				return nil, fmt.Errorf("match rewards %s: %q: want an amount between 0 and %d", mode, kv, maxRewardAmount)
			}
			target := &r.Participation
			switch {
			case m[1] == "win":
				target = &r.Win
			case m[2] != "":
				place, _ := strconv.Atoi(m[2])
				if place > maxPlacements {
					return nil, fmt.Errorf("match rewards %s: placements go up to %d", mode, maxPlacements)
				}
				for len(r.Placement) < place {
					r.Placement = append(r.Placement, Reward{})
				}
				target = &r.Placement[place-1]
			}
			if m[3] == "xp" {
				target.XP = n
				continue
			}
			if target.Currencies == nil {
				target.Currencies = map[string]int64{}
			}
			target.Currencies[m[3]] = n
		}
		out[mode] = r
	}
	if err := (Settings{Rewards: out}).Validate(); err != nil {
		return nil, err
	}
	return out, nil
}
