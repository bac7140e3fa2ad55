package telemetry

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/atollgg/atoll/cell/bus"
	"github.com/atollgg/atoll/cell/fleet"
	"github.com/atollgg/atoll/contract"
	"github.com/atollgg/atoll/gameserver/sdk"
	"github.com/atollgg/atoll/internal/httpx"
	"github.com/atollgg/atoll/internal/obs"
	"github.com/atollgg/atoll/internal/tokens"
	"github.com/nats-io/nats.go/jetstream"
)

const (
	testCell   = "tcell"
	testIssuer = "https://global.test"
	testAud    = "atoll"
	// testServer is the game server the test authenticator knows.
	testServer  = "srv-1"
	testSecret  = "0123456789abcdef-secret"
	testSession = "sess-1"
)

// testPlayers are the players of testServer's match.
var testPlayers = []string{"11111111-1111-4111-8111-111111111111", "22222222-2222-4222-8222-222222222222"}

// rig is an ingest over a real embedded NATS bus, served over HTTP.
type rig struct {
	bus    *bus.Bus
	ingest *Ingest
	srv    *httptest.Server
	issuer *tokens.Issuer
}

func newRig(t testing.TB, mutate func(*Config)) *rig {
	t.Helper()
	ctx := context.Background()
	b, err := bus.Start(ctx, bus.Config{CellID: testCell, DataDir: t.TempDir(), Log: obs.Discard()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Shutdown(context.Background()) })
	keys := tokens.NewKeyRing()
	issuer, err := tokens.NewIssuer(tokens.IssuerConfig{Keys: keys, Issuer: testIssuer, Audience: testAud})
	if err != nil {
		t.Fatal(err)
	}
	verifier, err := tokens.NewVerifier(tokens.VerifierConfig{Keys: keys, Issuer: testIssuer, Audience: testAud})
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{CellID: testCell, Region: "eu", Publisher: b, Verifier: verifier, Servers: testServers, Log: obs.Discard()}
	if mutate != nil {
		mutate(&cfg)
	}
	in, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	in.Routes(mux, func(h http.Handler) http.Handler { return h })
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return &rig{bus: b, ingest: in, srv: srv, issuer: issuer}
}

// testServers authenticates testServer the way the fleet does (its id
// header and the sha256 of its secret, compared in constant time) and
// vouches for its match.
func testServers(r *http.Request) (fleet.TelemetryServer, error) {
	secret, ok := httpx.BearerToken(r)
	want := sha256.Sum256([]byte(testSecret))
	got := sha256.Sum256([]byte(secret))
	if !ok || r.Header.Get(sdk.HeaderServerID) != testServer || subtle.ConstantTimeCompare(want[:], got[:]) != 1 {
		return fleet.TelemetryServer{}, httpx.Unauthenticated("unknown server or wrong secret")
	}
	alloc := &sdk.Allocation{SessionID: testSession, Mode: "duel"}
	for _, p := range testPlayers {
		alloc.Players = append(alloc.Players, sdk.Player{ID: p})
	}
	return fleet.TelemetryServer{ServerID: testServer, SessionID: testSession, Mode: "duel", Allocation: alloc}, nil
}

func (g *rig) token(t testing.TB, player string) string {
	t.Helper()
	tok, _, err := g.issuer.IssueAccess(player, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// post sends body with the given headers and returns the status, the
// decoded error code (if any) and the response.
func (g *rig) post(t testing.TB, body []byte, header map[string]string) (int, string, *http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, g.srv.URL+Path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := g.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	code := ""
	if resp.StatusCode >= 400 {
		code = httpx.ParseError(resp.StatusCode, data).Code
	}
	return resp.StatusCode, code, resp, data
}

func bearer(tok string) map[string]string { return map[string]string{"Authorization": "Bearer " + tok} }

func serverHeaders(secret string) map[string]string {
	return map[string]string{"Authorization": "Bearer " + secret, sdk.HeaderServerID: testServer}
}

// events returns n valid client events at ts.
func events(n int, ts time.Time) []RequestEvent {
	out := make([]RequestEvent, n)
	for i := range out {
		out[i] = RequestEvent{EventID: fmt.Sprintf("e%d", i), EventType: "ui.click", Timestamp: ts,
			Payload: json.RawMessage(`{"button":"play","n":` + fmt.Sprint(i) + `}`)}
	}
	return out
}

func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// stored reads every telemetry message on the cell's stream.
func (g *rig) stored(t testing.TB) []contract.TelemetryBatch {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	info, err := g.bus.Stream().Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := int(info.State.Msgs)
	if want == 0 {
		return nil
	}
	cons, err := g.bus.Stream().OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{g.bus.Subject(contract.KindTelemetry)},
	})
	if err != nil {
		t.Fatal(err)
	}
	var out []contract.TelemetryBatch
	for len(out) < want {
		msg, err := cons.Next(jetstream.FetchMaxWait(10 * time.Second))
		if err != nil {
			t.Fatalf("read stream after %d of %d: %v", len(out), want, err)
		}
		var b contract.TelemetryBatch
		if err := json.Unmarshal(msg.Data(), &b); err != nil {
			t.Fatalf("stored message %s: %v", msg.Data(), err)
		}
		out = append(out, b)
	}
	return out
}
