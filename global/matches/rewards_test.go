package matches

import (
	"reflect"
	"strings"
	"testing"

	"github.com/atollgg/atoll/global/economy"
)

func TestParseRewards(t *testing.T) {
	got, err := ParseRewards(" duel: xp=100, coins=10, win.xp=50, win.coins=20 ; ffa8:place1.coins=30,place3.xp=5;*:xp=50 ")
	if err != nil {
		t.Fatal(err)
	}
	want := Rewards{
		"duel": {Participation: Reward{XP: 100, Currencies: map[string]int64{"coins": 10}}, Win: Reward{XP: 50, Currencies: map[string]int64{"coins": 20}}},
		"ffa8": {Placement: []Reward{{Currencies: map[string]int64{"coins": 30}}, {}, {XP: 5}}},
		"*":    {Participation: Reward{XP: 50}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v\nwant %+v", got, want)
	}
	if off, err := ParseRewards("off"); err != nil || len(off) != 0 || off == nil {
		t.Fatalf("off: %v %v", off, err)
	}
	for _, bad := range []string{
		"duel", "duel:xp", "duel:xp=-1", "duel:xp=1000001", "duel:xp=1.5", ":xp=1", "du el:xp=1", "duel:xp=1;duel:xp=2",
		"duel:lose.xp=1", "duel:place0.xp=1", "duel:place257.xp=1", "duel:Coins=1", "duel:win.place1.xp=1", strings.Repeat("x", maxRewardSpec+1),
	} {
		if _, err := ParseRewards(bad); err == nil {
			t.Errorf("ParseRewards(%q) accepted", bad)
		}
	}
}

func TestRuleFor(t *testing.T) {
	r := Rule{
		Participation: Reward{XP: 10, Currencies: map[string]int64{"coins": 1}},
		Win:           Reward{XP: 5},
		Placement:     []Reward{{Currencies: map[string]int64{"coins": 30}}, {Currencies: map[string]int64{"coins": 15}}},
	}
	for _, tc := range []struct {
		name           string
		place, sides   int
		outcome        string
		wantXP, wantCn int64
	}{
		{"winner", 1, 4, OutcomeWin, 15, 31},
		{"shared first", 1, 4, OutcomeDraw, 10, 31},
		{"second", 2, 4, OutcomeLoss, 10, 16},
		{"beyond the bonuses", 3, 4, OutcomeLoss, 10, 1},
		{"single side: participation only", 1, 1, OutcomeNone, 10, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := r.For(tc.place, tc.sides, tc.outcome)
			if got.XP != tc.wantXP || got.Currencies["coins"] != tc.wantCn {
				t.Fatalf("%+v, want %d xp and %d coins", got, tc.wantXP, tc.wantCn)
			}
		})
	}
	if r.Participation.Currencies["coins"] != 1 {
		t.Fatal("For changed the rule's own map")
	}
}

func TestRewardCurrencies(t *testing.T) {
	known := economy.DefaultCurrencies() // soft coins, premium gems
	for _, tc := range []struct {
		spec string
		ok   bool
	}{
		{"*:coins=1", true},
		{"*:win.gems=1", false},
		{"duel:place2.gems=1", false},
		{"*:gold=1", false},
		{"*:xp=5", true},
	} {
		rw, err := ParseRewards(tc.spec)
		if err != nil {
			t.Fatal(err)
		}
		if err := rw.checkCurrencies(known); (err == nil) != tc.ok {
			t.Errorf("%s: error %v, want ok=%v", tc.spec, err, tc.ok)
		}
	}
	if err := DefaultRewards("coins").checkCurrencies(known); err != nil {
		t.Fatal(err)
	}
}
