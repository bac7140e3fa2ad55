package cell_test

import (
	"context"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/atollgg/atoll/cell/matchmaking"
	"github.com/atollgg/atoll/contract"
	"github.com/atollgg/atoll/global/globaltest"
	"github.com/atollgg/atoll/internal/obs"
	"github.com/atollgg/atoll/internal/tokens"
	"github.com/atollgg/atoll/relay"
	"github.com/coder/websocket"
	"github.com/golang-jwt/jwt/v5"
)

// TestForwardedPlay: with forwarding on, matched players are given the
// relay's address, never the game server's, and play the whole match
// through the relay.
func TestForwardedPlay(t *testing.T) {
	core := globaltest.Start(t)
	a, b := core.Guest(t), core.Guest(t)
	key := make([]byte, contract.ForwardKeySize)
	for i := range key {
		key[i] = byte(7 * i)
	}
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "forward.key")
	if err := os.WriteFile(keyFile, []byte(hex.EncodeToString(key)), 0o600); err != nil {
		t.Fatal(err)
	}
	topo := filepath.Join(dir, "topology")
	if err := os.Mkdir(topo, 0o700); err != nil {
		t.Fatal(err)
	}
	writeTopology := func(cellURL string) {
		files := map[string]string{
			"core.yaml": fmt.Sprintf("version: 1\ncore: {api_url: %q}\n", core.URL),
			testRegion + ".yaml": fmt.Sprintf("version: 1\nregion:\n  id: %s\n  name: test\n  location: {lat: 0, lon: 0}\n"+
				"  cells: [{id: %s, api_url: %q}]\n  relays: [{id: r1, beacon: \"127.0.0.1:1\", url: \"http://127.0.0.1:1\"}]\n",
				testRegion, globaltest.CellID, cellURL),
		}
		for name, content := range files {
			tmp := filepath.Join(topo, "."+name)
			if err := os.WriteFile(tmp, []byte(content), 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.Rename(tmp, filepath.Join(topo, name)); err != nil {
				t.Fatal(err)
			}
		}
	}
	// The relay starts first (the cell needs its address), with a
	// placeholder for the cell's URL that is fixed once the cell is up.
	writeTopology("http://127.0.0.1:1")
	r, err := relay.New(relay.Config{
		RelayID: "r1", TopologyDir: topo, HTTPAddr: "127.0.0.1:0", BeaconAddr: "127.0.0.1:0", BeaconWorkers: 1,
		GlobalIssuer: issuerOf(t, a.Access), Forward: relay.ForwardConfig{KeyFile: keyFile}, Log: obs.Discard(),
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
		defer cancel()
		_ = r.Shutdown(ctx)
	})
	cfg := cellConfig(t, core, issuerOf(t, a.Access), gameServer(t))
	cfg.ForwardRelay, cfg.ForwardKeyFile = r.Addr(), keyFile
	c := startCell(t, cfg)
	writeTopology(c.URL())
	eventually(t, "relay sees the cell's URL", func() bool {
		_, cell, ok := r.Routing.Topology.World().CellRegion(globaltest.CellID)
		return ok && cell.APIURL == c.URL()
	})

	cl := newClient(c.URL())
	wa, wb := watch(t, c.URL(), a.Access), watch(t, c.URL(), b.Access)
	join(t, cl, a.Access, "duel", nil)
	join(t, cl, b.Access, "duel", nil)
	sa, sb := wa.until("matched", matched), wb.until("matched", matched)
	relayHost, relayPort, _ := net.SplitHostPort(r.Addr())
	for _, st := range []matchmaking.Status{sa, sb} {
		if st.Server == nil || st.Server.Host != relayHost || strconv.Itoa(st.Server.Port) != relayPort {
			t.Fatalf("status gives server %+v, want the relay %s", st.Server, r.Addr())
		}
		// The token carries the real address sealed, for this session.
		var claims tokens.ConnectClaims
		if _, _, err := jwt.NewParser().ParseUnverified(st.ConnectToken, &claims); err != nil {
			t.Fatal(err)
		}
		addr, err := contract.OpenAddr(key, st.SessionID, claims.Forward)
		if err != nil || addr == r.Addr() {
			t.Fatalf("sealed address %q, %v", addr, err)
		}
	}

	ga, gb := dialGame(t, sa.Server, sa.ConnectToken), dialGame(t, sb.Server, sb.ConnectToken)
	for _, g := range []*gameConn{ga, gb} {
		if w := g.expect(t, "welcome"); w["session_id"] != sa.SessionID {
			t.Fatalf("welcome %v", w)
		}
		g.expect(t, "start")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := ga.conn.Write(ctx, websocket.MessageText, []byte(`{"type":"tap"}`)); err != nil {
		t.Fatal(err)
	}
	if end := ga.expect(t, "end"); end["results"] == nil {
		t.Fatalf("end frame without results: %v", end)
	}
	gb.expect(t, "end")
}
