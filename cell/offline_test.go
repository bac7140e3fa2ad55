package cell_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"testing"

	"github.com/atollgg/atoll/cell/matchmaking"
	"github.com/atollgg/atoll/global/globaltest"
)

// TestServesWithoutGlobalCore: a cell restarted while the global core is
// unreachable still verifies players' tokens with the keys it cached on
// disk, still matches them (default ratings), and reports itself ready.
func TestServesWithoutGlobalCore(t *testing.T) {
	core := globaltest.Start(t)
	a, b := core.Guest(t), core.Guest(t)
	target, err := url.Parse(core.URL)
	if err != nil {
		t.Fatal(err)
	}
	link := httptest.NewServer(httputil.NewSingleHostReverseProxy(target))
	defer link.Close()
	cfg := cellConfig(t, core, issuerOf(t, a.Access), gameServer(t))
	cfg.GlobalURL = link.URL
	first := startCell(t, cfg)
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	if err := first.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}

	link.Close() // the core is now unreachable from the cell
	c := startCell(t, cfg)
	cl := newClient(c.URL())
	if r := cl.do(t, "GET", "/readyz", "", nil); r.status != http.StatusOK {
		t.Fatalf("readyz without the core: %d %s", r.status, r.body)
	}
	wa := watch(t, c.URL(), a.Access)
	join(t, cl, a.Access, "duel", nil)
	join(t, cl, b.Access, "duel", nil)
	if st := wa.until("matched", matched); st.Status != matchmaking.StatusMatched {
		t.Fatalf("status %+v", st)
	}
	if r := cl.do(t, "GET", "/matchmaking/status", "forged.token.here", nil); r.status != http.StatusUnauthorized {
		t.Fatalf("forged token while offline: %d", r.status)
	}
}
