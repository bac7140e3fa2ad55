package relay

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/atollgg/atoll/contract"
	"github.com/atollgg/atoll/internal/tokens"
	"github.com/coder/websocket"
)

// ioWait bounds one step over loopback.
const ioWait = 10 * time.Second

// fixture is a relay with a stand-in cell (its connect JWKS), a core (its
// access JWKS) and a game server that answers the hello and echoes frames.
type fixture struct {
	relay      *Relay
	cellKeys   *tokens.KeyRing
	coreKeys   *tokens.KeyRing
	forwardKey []byte
	serverAddr string
	dials      atomic.Int64 // connections that reached the game server
	hellos     chan string  // the hellos it received
	coreURL    string
}

func newFixture(t testing.TB) *fixture {
	return newFixtureWith(t, ForwardConfig{})
}

func newFixtureWith(t testing.TB, fwd ForwardConfig, mutate ...func(*Config)) *fixture {
	t.Helper()
	f := &fixture{cellKeys: tokens.NewKeyRing(), coreKeys: tokens.NewKeyRing(), hellos: make(chan string, 16)}
	f.forwardKey = make([]byte, contract.ForwardKeySize)
	for i := range f.forwardKey {
		f.forwardKey[i] = byte(i)
	}
	cell := httptest.NewServer(f.cellKeys.JWKSHandler())
	t.Cleanup(cell.Close)
	core := httptest.NewServer(f.coreKeys.JWKSHandler())
	t.Cleanup(core.Close)
	game := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.dials.Add(1)
		ws, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer ws.CloseNow()
		_, hello, err := ws.Read(r.Context())
		if err != nil {
			return
		}
		f.hellos <- string(hello)
		_ = ws.Write(r.Context(), websocket.MessageText, []byte(`{"type":"welcome"}`))
		for {
			typ, data, err := ws.Read(r.Context())
			if err != nil {
				return
			}
			if string(data) == "kick" {
				_ = ws.Close(4403, "kicked")
				return
			}
			if err := ws.Write(r.Context(), typ, data); err != nil {
				return
			}
		}
	}))
	t.Cleanup(game.Close)
	f.serverAddr = strings.TrimPrefix(game.URL, "http://")
	f.coreURL = core.URL

	dir := t.TempDir()
	files := map[string]string{
		"core.yaml": fmt.Sprintf("version: 1\ncore:\n  api_url: %s\n", core.URL),
		"eu.yaml": fmt.Sprintf(`version: 1
region:
  id: eu
  name: Europe
  location: {lat: 50, lon: 8}
  cells: [{id: eu-1, api_url: %s}]
  relays: [{id: eu-r1, beacon: "127.0.0.1:1", url: "http://127.0.0.1:1"}]
`, cell.URL),
		"us.yaml": `version: 1
region:
  id: us
  name: US
  location: {lat: 39, lon: -77}
  cells: [{id: us-1, api_url: "http://127.0.0.1:1"}]
  relays: [{id: us-r1, beacon: "127.0.0.1:1", url: "http://127.0.0.1:1"}]
`,
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cfg := Config{
		RelayID: "eu-r1", TopologyDir: dir, HTTPAddr: "127.0.0.1:0", BeaconAddr: "127.0.0.1:0", BeaconWorkers: 1,
		Forward: ForwardConfig{Key: f.forwardKey, FrameRate: fwd.FrameRate, ByteRate: fwd.ByteRate},
	}
	for _, m := range mutate {
		m(&cfg)
	}
	r, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), ioWait)
		defer cancel()
		if err := r.Shutdown(ctx); err != nil {
			t.Error(err)
		}
	})
	f.relay = r
	return f
}

// connectToken is a token as a cell with forwarding on signs it.
type tokenOpts struct {
	keys      *tokens.KeyRing
	issuer    string
	session   string
	sealedFor string // session the address is sealed for
	addr      string
	now       time.Time
	noForward bool
}

func (f *fixture) token(t testing.TB, o tokenOpts) string {
	t.Helper()
	if o.keys == nil {
		o.keys = f.cellKeys
	}
	if o.issuer == "" {
		o.issuer = contract.ConnectIssuerPrefix + "eu-1"
	}
	if o.session == "" {
		o.session = "s-1"
	}
	if o.sealedFor == "" {
		o.sealedFor = o.session
	}
	if o.addr == "" {
		o.addr = f.serverAddr
	}
	if o.now.IsZero() {
		o.now = time.Now()
	}
	c := tokens.NewConnectClaims(o.issuer, "srv-1", o.session, "player-1", o.now, 0)
	if !o.noForward {
		sealed, err := contract.SealAddr(f.forwardKey, o.sealedFor, o.addr)
		if err != nil {
			t.Fatal(err)
		}
		c.Forward = sealed
	}
	tok, err := o.keys.Sign(c)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestForwardRefusesBadTokens(t *testing.T) {
	f := newFixture(t)
	other := tokens.NewKeyRing()
	tests := []struct {
		name   string
		hello  func() string
		reason string
	}{
		{"missing token", func() string { return `{}` }, "bad_hello"},
		{"not json", func() string { return `token` }, "bad_hello"},
		{"garbage token", func() string { return `{"token":"a.b.c"}` }, "invalid_token"},
		{"forged", func() string { return helloOf(f.token(t, tokenOpts{keys: other})) }, "invalid_token"},
		{"expired", func() string { return helloOf(f.token(t, tokenOpts{now: time.Now().Add(-time.Hour)})) }, "token_expired"},
		{"other session", func() string { return helloOf(f.token(t, tokenOpts{session: "s-2", sealedFor: "s-1"})) }, "wrong_session"},
		{"not forwarded", func() string { return helloOf(f.token(t, tokenOpts{noForward: true})) }, "not_forwarded"},
		{"cell of another region", func() string {
			return helloOf(f.token(t, tokenOpts{issuer: contract.ConnectIssuerPrefix + "us-1"}))
		}, "invalid_token"},
		{"unknown cell", func() string { return helloOf(f.token(t, tokenOpts{issuer: contract.ConnectIssuerPrefix + "xx"})) }, "invalid_token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), ioWait)
			defer cancel()
			ws, _, err := websocket.Dial(ctx, "ws://"+f.relay.Addr()+PathPlay, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer ws.CloseNow()
			if err := ws.Write(ctx, websocket.MessageText, []byte(tt.hello())); err != nil {
				t.Fatal(err)
			}
			_, _, err = ws.Read(ctx)
			var ce websocket.CloseError
			if !asClose(err, &ce) || ce.Reason != tt.reason {
				t.Fatalf("read err %v, want a close with reason %q", err, tt.reason)
			}
		})
	}
	if n := f.dials.Load(); n != 0 {
		t.Fatalf("the game server was dialed %d times for refused tokens", n)
	}
}

func TestForwardPipesBothWays(t *testing.T) {
	f := newFixture(t)
	ctx, cancel := context.WithTimeout(context.Background(), ioWait)
	defer cancel()
	tok := f.token(t, tokenOpts{})
	// Through /connect, the path clients already use for game servers.
	ws, _, err := websocket.Dial(ctx, "ws://"+f.relay.Addr()+PathConnect, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.CloseNow()
	if err := ws.Write(ctx, websocket.MessageText, []byte(helloOf(tok))); err != nil {
		t.Fatal(err)
	}
	if got := <-f.hellos; got != helloOf(tok) {
		t.Fatalf("server got hello %q, want it unchanged", got)
	}
	if _, data, err := ws.Read(ctx); err != nil || string(data) != `{"type":"welcome"}` {
		t.Fatalf("welcome %q, %v", data, err)
	}
	for _, m := range []struct {
		typ  websocket.MessageType
		data string
	}{{websocket.MessageBinary, "\x01\x02input"}, {websocket.MessageText, `{"type":"ping"}`}} {
		if err := ws.Write(ctx, m.typ, []byte(m.data)); err != nil {
			t.Fatal(err)
		}
		typ, data, err := ws.Read(ctx)
		if err != nil || typ != m.typ || string(data) != m.data {
			t.Fatalf("echo %v %q, %v", typ, data, err)
		}
	}
	// The server's close code reaches the player unchanged.
	if err := ws.Write(ctx, websocket.MessageText, []byte("kick")); err != nil {
		t.Fatal(err)
	}
	_, _, err = ws.Read(ctx)
	var ce websocket.CloseError
	if !asClose(err, &ce) || ce.Code != 4403 || ce.Reason != "kicked" {
		t.Fatalf("close %v, want 4403 kicked", err)
	}
}

func TestForwardRateLimit(t *testing.T) {
	f := newFixture(t)
	ctx, cancel := context.WithTimeout(context.Background(), ioWait)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, "ws://"+f.relay.Addr()+PathPlay, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.CloseNow()
	if err := ws.Write(ctx, websocket.MessageText, []byte(helloOf(f.token(t, tokenOpts{})))); err != nil {
		t.Fatal(err)
	}
	if _, _, err := ws.Read(ctx); err != nil { // welcome
		t.Fatal(err)
	}
	// More frames than the burst, without reading: the relay cuts the
	// player before the server sees the flood.
	go func() { // ends when the connection closes
		for i := 0; i < 20*upFrameRate; i++ {
			if ws.Write(ctx, websocket.MessageBinary, []byte("x")) != nil {
				return
			}
		}
	}()
	for {
		_, _, err := ws.Read(ctx)
		if err == nil {
			continue
		}
		var ce websocket.CloseError
		if !asClose(err, &ce) || ce.Reason != "rate_limited" {
			t.Fatalf("close %v, want rate_limited", err)
		}
		return
	}
}

func helloOf(tok string) string {
	b, _ := json.Marshal(map[string]string{"token": tok})
	return string(b)
}

func asClose(err error, ce *websocket.CloseError) bool {
	if err == nil {
		return false
	}
	c := websocket.CloseStatus(err)
	if c == -1 {
		return false
	}
	*ce = websocket.CloseError{Code: c}
	var e websocket.CloseError
	if errors.As(err, &e) {
		*ce = e
	}
	return true
}

func FuzzDecodeHello(f *testing.F) {
	f.Add([]byte(`{"token":"a.b.c"}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		tok, err := decodeHello(data)
		if err == nil && (tok == "" || len(tok) > tokens.MaxTokenLength) {
			t.Fatalf("accepted token of %d bytes", len(tok))
		}
	})
}
