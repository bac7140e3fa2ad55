package cell_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"testing"

	"github.com/atollgg/atoll/cell/matchmaking"
	"github.com/atollgg/atoll/cell/sessions"
	"github.com/atollgg/atoll/global/globaltest"
)

// TestKill9DuringPlayReconciled kills the cell with SIGKILL during a game,
// then its game server too while the cell is down (a machine that lost
// power). At the next start the session is reconciled: it fails, nothing
// is published for it, and its players are requeued and matched again
// instead of being refused as still playing.
func TestKill9DuringPlayReconciled(t *testing.T) {
	core := globaltest.Start(t)
	a, b := core.Guest(t), core.Guest(t)
	gs := gameServer(t)
	t.Cleanup(func() { killProcessesOf(gs) })
	bin := buildBinary(t, "cmd/atoll")
	lo, hi := portRange()
	httpPort := freePort(t)
	env := []string{
		"ATOLL_CELL_ID=" + globaltest.CellID, "ATOLL_REGION=" + testRegion,
		fmt.Sprintf("ATOLL_HTTP_ADDR=127.0.0.1:%d", httpPort), "ATOLL_GLOBAL_URL=" + core.URL,
		"ATOLL_GLOBAL_ISSUER=" + issuerOf(t, a.Access), "ATOLL_DATA_DIR=" + t.TempDir(),
		"ATOLL_SERVICE_TOKEN=" + globaltest.CellToken,
		"ATOLL_GAMESERVER_COMMAND=" + gs, fmt.Sprintf("ATOLL_GAME_PORTS=%d-%d", lo, hi),
		"ATOLL_GAMESERVER_ENV=ATOLL_GAME=timed,ATOLL_GAME_DURATION=1m,ATOLL_GAME_JOIN_TIMEOUT=20s",
		"ATOLL_HEARTBEAT_PERIOD=1s", "ATOLL_WARM_SERVERS=2", "ATOLL_MAX_SERVERS=8", "ATOLL_LOG_LEVEL=debug",
	}
	logPath := filepath.Join(t.TempDir(), "cell.log")
	child := startChild(t, bin, env, logPath)
	base := "http://" + child.addr
	cl := newClient(base)

	wa := watch(t, base, a.Access)
	join(t, cl, a.Access, "duel", nil)
	join(t, cl, b.Access, "duel", nil)
	sa := wa.until("matched", matched)
	sb := status(t, cl, b.Access)
	ga, gb := dialGame(t, sa.Server, sa.ConnectToken), dialGame(t, sb.Server, sb.ConnectToken)
	ga.expect(t, "start")
	gb.expect(t, "start")

	child.kill9(t)
	killProcessesOf(gs)
	child = startChild(t, bin, env, logPath)

	var sess sessions.Session
	eventually(t, "the interrupted session failed", func() bool {
		r := cl.do(t, "GET", "/sessions/"+sa.SessionID, a.Access, nil)
		if r.status != http.StatusOK || json.Unmarshal(r.body, &sess) != nil {
			t.Fatalf("session after the restart: %d %s", r.status, r.body)
		}
		return sess.Status == sessions.StatusFailed
	})
	if sess.Results != nil {
		t.Fatalf("failed session with results: %+v", sess)
	}
	for _, p := range []globaltest.Player{a, b} {
		eventually(t, "the player matched into a new session", func() bool {
			st := status(t, cl, p.Access)
			return st.Status == matchmaking.StatusMatched && st.SessionID != sa.SessionID
		})
	}
}
