package cell_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/atollgg/atoll/cell/matchmaking"
	"github.com/atollgg/atoll/global/globaltest"
	"github.com/atollgg/atoll/internal/apispec"
)

// TestLiveResponsesMatchOpenAPI checks the cell's player API answers,
// successes and errors, against cell/matchmaking/openapi.yaml.
func TestLiveResponsesMatchOpenAPI(t *testing.T) {
	ctx := context.Background()
	check, err := apispec.NewChecker(ctx, "matchmaking/openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	core := globaltest.Start(t)
	a := core.Guest(t)
	c := startCell(t, cellConfig(t, core, issuerOf(t, a.Access), gameServer(t)))
	cl := newClient(c.URL())
	queue := matchmaking.JoinRequest{GameMode: "5v5", LatenciesMs: map[string]int{testRegion: 20}} // nobody else: stays queued
	exchanges := []struct {
		method, path, token string
		body                any
		status              int
	}{
		{"GET", "/matchmaking/modes", "", nil, 200},
		{"GET", "/matchmaking/status", a.Access, nil, 404},
		{"GET", "/matchmaking/status", "", nil, 401},
		{"POST", "/matchmaking/join", a.Access, matchmaking.JoinRequest{GameMode: "nope", LatenciesMs: map[string]int{testRegion: 20}}, 400},
		{"POST", "/matchmaking/join", a.Access, queue, 202},
		{"POST", "/matchmaking/join", a.Access, queue, 409},
		{"GET", "/matchmaking/status", a.Access, nil, 200},
		{"DELETE", "/matchmaking/ticket", a.Access, nil, 200},
		{"DELETE", "/matchmaking/ticket", a.Access, nil, 404},
		{"GET", "/sessions/no-such-session", a.Access, nil, 404},
	}
	for _, x := range exchanges {
		r := cl.do(t, x.method, x.path, x.token, x.body)
		if r.status != x.status {
			t.Errorf("%s %s: %d %s, want %d", x.method, x.path, r.status, r.body, x.status)
			continue
		}
		req, err := http.NewRequestWithContext(ctx, x.method, c.URL()+x.path, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := check.Check(ctx, req, r.status, http.Header{"Content-Type": {"application/json"}}, r.body); err != nil {
			t.Errorf("%v\nbody: %s", err, r.body)
		}
	}
}
