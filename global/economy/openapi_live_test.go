package economy_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/atollgg/atoll/global/economy"
	"github.com/atollgg/atoll/global/globaltest"
	"github.com/atollgg/atoll/global/payments"
	"github.com/atollgg/atoll/internal/apispec"
)

// TestLiveResponsesMatchOpenAPI sends real requests to a core and checks
// every answer, success or error, against openapi.yaml with kin-openapi: a
// status the description does not list, or a body its schema refuses,
// fails.
func TestLiveResponsesMatchOpenAPI(t *testing.T) {
	ctx := context.Background()
	check, err := apispec.NewChecker(ctx, "openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	c := startCore(t)
	p := c.Guest(t)
	key := economy.IdempotencyHeader
	purchase := economy.PurchaseRequest{ItemTemplateID: "hat_wizard", Currency: "coins"}
	reward := economy.ServiceGrantRequest{PlayerID: p.ID, IdempotencyKey: "m1", Currencies: map[string]int64{"coins": 10}, XP: 20}
	exchanges := []struct {
		method, path, token string
		body                any
		headers             []string
		status              int
	}{
		{"GET", "/store/catalog", "", nil, nil, 200},
		{"GET", "/progression/levels", "", nil, nil, 200},
		{"GET", "/wallet", p.Access, nil, nil, 200},
		{"GET", "/wallet", "", nil, nil, 401},
		{"POST", "/store/purchase", p.Access, purchase, []string{key, "k1"}, 201},
		{"POST", "/store/purchase", p.Access, purchase, []string{key, "k1"}, 201},
		{"POST", "/store/purchase", p.Access, economy.PurchaseRequest{ItemTemplateID: "skin_dragon", Currency: "gems"}, []string{key, "k2"}, 409},
		{"POST", "/store/purchase", p.Access, purchase, nil, 400},
		{"GET", "/wallet/transactions", p.Access, nil, nil, 200},
		{"GET", "/inventory/" + p.ID, p.Access, nil, nil, 200},
		{"POST", "/internal/v1/economy/grants", globaltest.CellToken, reward, nil, 200},
		{"POST", "/internal/v1/economy/grants", globaltest.CellToken, economy.ServiceGrantRequest{PlayerID: p.ID, IdempotencyKey: "m2", Currencies: map[string]int64{"gems": 1}}, nil, 403},
		{"POST", "/internal/v1/economy/grants", p.Access, reward, nil, 401},
		{"POST", "/admin/players/" + p.ID + "/grant", globaltest.AdminToken, economy.AdminGrantRequest{Currency: "gems", Amount: 5, Reason: "support", IdempotencyKey: "t1"}, nil, 200},
		{"GET", "/admin/players/" + p.ID + "/economy", globaltest.AdminToken, nil, nil, 200},
		{"GET", "/admin/catalog", globaltest.AdminToken, nil, nil, 200},
		{"POST", "/store/checkout", p.Access, payments.CheckoutBody{OfferID: "gems_100"}, []string{key, "c1"}, 201},
	}
	for _, x := range exchanges {
		r := c.Do(t, x.method, x.path, x.token, x.body, x.headers...)
		if r.Status != x.status {
			t.Errorf("%s %s: %d %s, want %d", x.method, x.path, r.Status, r.Body, x.status)
			continue
		}
		req, err := http.NewRequestWithContext(ctx, x.method, c.URL+x.path, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := check.Check(ctx, req, r.Status, r.Header, r.Body); err != nil {
			t.Errorf("%v\nbody: %s", err, r.Body)
		}
	}
}
