package economy

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/atollgg/atoll/internal/httpx"
)

// fuzzService is a Service with the dev catalog in memory and no database,
// enough for every decoder and validator.
func fuzzService(f *testing.F) *Service {
	f.Helper()
	set := Settings{}.withDefaults()
	cs := newCurrencySet(set)
	sd, _, err := parseSeed(DevCatalog, cs)
	if err != nil {
		f.Fatal(err)
	}
	snap := &catalogSnap{byID: map[string]*Item{}, loaded: time.Now()}
	for i := range sd.items {
		it := &sd.items[i]
		snap.byID[it.ID] = it
		snap.sorted = append(snap.sorted, it)
	}
	s := &Service{currencies: cs, now: time.Now, catalog: &catalogCache{ttl: time.Hour, now: time.Now}}
	s.catalog.snap.Store(snap)
	return s
}

func FuzzPurchaseRequest(f *testing.F) {
	s := fuzzService(f)
	for _, seed := range []string{
		`{"item_template_id":"sword_wooden","quantity":2,"currency":"coins"}`,
		`{"item_template_id":"arrow","currency":"coins"}`,
		`{"item_template_id":"x","quantity":-1,"currency":"gems"}`,
		`{"item_template_id":"x","quantity":1e30}`, `[]`, `{"a":1}`, `{} {}`, ``,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var req PurchaseRequest
		if err := httpx.DecodeStrict(bytes.NewReader(data), &req); err != nil {
			return
		}
		if err := req.normalize(s.currencies); err != nil {
			return
		}
		if req.Quantity < 1 || req.Quantity > MaxPurchaseQuantity || !s.currencies.known(req.Currency) || !itemIDPattern.MatchString(req.ItemTemplateID) {
			t.Fatalf("normalize accepted %+v", req)
		}
	})
}

func FuzzGrantRequests(f *testing.F) {
	s := fuzzService(f)
	for _, seed := range []string{
		`{"player_id":"7d0b1a9e-3c3f-4a8e-9a57-8d9f2b6c1e01","idempotency_key":"m:1","currencies":{"coins":5},"xp":10}`,
		`{"player_id":"7d0b1a9e-3c3f-4a8e-9a57-8d9f2b6c1e01","idempotency_key":"m","items":[{"item_template_id":"sword_wooden","quantity":1,"attributes":{"d":1}}]}`,
		`{"player_id":"x","idempotency_key":"","currencies":{"coins":-5}}`,
		`{"items":[{"item_template_id":"arrow","quantity":0,"attributes":[]}]}`,
	} {
		f.Add([]byte(seed), false)
		f.Add([]byte(seed), true)
	}
	f.Fuzz(func(t *testing.T, data []byte, admin bool) {
		var req GrantRequest
		var err error
		if admin {
			var body AdminGrantRequest
			if httpx.DecodeStrict(bytes.NewReader(data), &body) != nil {
				return
			}
			req, err = body.toGrant("7d0b1a9e-3c3f-4a8e-9a57-8d9f2b6c1e01")
		} else {
			var body ServiceGrantRequest
			if httpx.DecodeStrict(bytes.NewReader(data), &body) != nil {
				return
			}
			req, err = body.toGrant("cell:fuzz")
		}
		if err != nil {
			return
		}
		if err := s.validateGrant(t.Context(), &req); err != nil {
			return
		}
		if !ValidKey(req.Key) || req.XP < 0 || len(req.Items) > maxGrantItems || (len(req.Currencies) == 0 && len(req.Items) == 0 && req.XP == 0) {
			t.Fatalf("validateGrant accepted %+v", req)
		}
		for c, a := range req.Currencies {
			if !s.currencies.known(c) || a == 0 || (!admin && a < 0) {
				t.Fatalf("validateGrant accepted %s %d", c, a)
			}
		}
		for _, ig := range req.Items {
			if len(ig.Attributes) > 0 && !json.Valid(ig.Attributes) {
				t.Fatalf("invalid attributes accepted: %q", ig.Attributes)
			}
		}
		_ = req.hash()
	})
}

func FuzzItemSpec(f *testing.F) {
	s := fuzzService(f)
	for _, seed := range []string{
		`{"id":"shield","name":"Shield","category":"armor","prices":{"coins":5},"stackable":true,"max_stack":10,"per_player_limit":1}`,
		`{"name":" x","category":"A","prices":{"gold":-1},"max_stack":5,"attributes":"str"}`,
		`{"id":"a","name":"b","category":"c","sale_start":"2030-01-01T00:00:00Z","sale_end":"2020-01-01T00:00:00Z"}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var spec ItemSpec
		if httpx.DecodeStrict(bytes.NewReader(data), &spec) != nil {
			return
		}
		it, err := spec.toItem(s.currencies)
		if err != nil {
			return
		}
		if it.MaxStack < 1 || (!it.Stackable && it.MaxStack != 1) || !json.Valid(it.Attributes) || !itemIDPattern.MatchString(it.ID) {
			t.Fatalf("toItem accepted %+v", it)
		}
		for c, p := range it.Prices {
			if !s.currencies.known(c) || p < 0 {
				t.Fatalf("toItem accepted price %s %d", c, p)
			}
		}
	})
}

func FuzzSeedFile(f *testing.F) {
	cs := newCurrencySet(Settings{}.withDefaults())
	f.Add(DevCatalog)
	f.Add([]byte(`{"items":[],"topups":[{"id":"g","name":"G","currency":"coins","amount":1,"price":{"amount":1,"currency":"usd"}}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		sd, _, err := parseSeed(data, cs)
		if err != nil {
			return
		}
		for _, o := range sd.offers {
			if c := cs.byCode[o.Currency]; !c.Premium || o.Amount < 1 || o.Price.Amount < 1 {
				t.Fatalf("parseSeed accepted offer %+v", o)
			}
		}
	})
}

func FuzzCursor(f *testing.F) {
	f.Add(encodeCursor(position{at: time.Unix(1_700_000_000, 123000), id: "7d0b1a9e-3c3f-4a8e-9a57-8d9f2b6c1e01"}))
	f.Add("")
	f.Add("MTIz")
	f.Add("LTEuN2QwYjFhOWUtM2MzZi00YThlLTlhNTctOGQ5ZjJiNmMxZTAx")
	f.Fuzz(func(t *testing.T, s string) {
		at, id, err := DecodeCursor(s)
		if err != nil {
			return
		}
		again, id2, err := DecodeCursor(encodeCursor(position{at: at, id: id}))
		if err != nil || !again.Equal(at) || id2 != id {
			t.Fatalf("cursor %q does not round-trip: %v %s %v", s, at, id, err)
		}
	})
}

func FuzzIdempotencyKey(f *testing.F) {
	f.Add("match-42:7d0b1a9e")
	f.Add("has space")
	f.Add("ünïcode")
	f.Fuzz(func(t *testing.T, k string) {
		if !ValidKey(k) {
			return
		}
		for i := 0; i < len(k); i++ {
			if k[i] <= ' ' || k[i] > '~' {
				t.Fatalf("ValidKey accepted %q", k)
			}
		}
	})
}
