package cell_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/atollgg/atoll/cell/bus"
	"github.com/atollgg/atoll/cell/matchmaking"
	"github.com/atollgg/atoll/cell/sessions"
	"github.com/atollgg/atoll/global/globaltest"
	"github.com/coder/websocket"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// childCell is `atoll cell` running as a child process.
type childCell struct {
	cmd    *exec.Cmd
	addr   string
	stderr string
	exited chan struct{}
}

// startChild runs the cell binary with env and waits for its ready line.
func startChild(t *testing.T, bin string, env []string, logPath string) *childCell {
	t.Helper()
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer logFile.Close()
	cmd := exec.Command(bin, "cell") // the real `atoll cell`, configured by ATOLL_* variables
	cmd.Env = append(os.Environ(), env...)
	cmd.Stderr = logFile
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &childCell{cmd: cmd, stderr: logPath, exited: make(chan struct{})}
	ready := make(chan string, 1)
	go func() { // reads the child's stdout until it exits
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if addr, ok := strings.CutPrefix(sc.Text(), "cell ready "); ok {
				ready <- addr
			}
		}
		_ = cmd.Wait()
		close(c.exited)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-c.exited:
		case <-time.After(waitTimeout):
			_ = cmd.Process.Kill()
			<-c.exited
		}
	})
	select {
	case c.addr = <-ready:
	case <-c.exited:
		t.Fatalf("cell exited before it was ready; log:\n%s", tail(logPath))
	case <-time.After(waitTimeout):
		t.Fatalf("cell not ready within %s; log:\n%s", waitTimeout, tail(logPath))
	}
	return c
}

func (c *childCell) kill9(t *testing.T) {
	t.Helper()
	if err := c.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-c.exited
}

func tail(path string) string {
	b, _ := os.ReadFile(path)
	if len(b) > 8<<10 {
		b = b[len(b)-8<<10:]
	}
	return string(b)
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// killProcessesOf SIGKILLs every process running the executable path: the
// game servers a killed cell leaves behind by design.
func killProcessesOf(path string) {
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		var pid int
		if _, err := fmt.Sscan(e.Name(), &pid); err != nil {
			continue
		}
		if exe, err := os.Readlink(filepath.Join("/proc", e.Name(), "exe")); err == nil && exe == path {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}

// TestKill9KeepsTicketsAndSessions runs the cell as a child process, kills
// it with SIGKILL while one ticket is queued and one session is being
// played, and restarts it: the ticket is still queued with its age, the
// session still runs on its (re-adopted) game server, and its results are
// published when the game ends after the restart.
func TestKill9KeepsTicketsAndSessions(t *testing.T) {
	core := globaltest.Start(t)
	a, b, c := core.Guest(t), core.Guest(t), core.Guest(t)
	gs := gameServer(t)
	t.Cleanup(func() { killProcessesOf(gs) })
	bin := buildBinary(t, "cmd/atoll")
	lo, hi := portRange()
	httpPort, natsPort := freePort(t), freePort(t)
	const gameLength = 6 * time.Second
	env := []string{
		"ATOLL_CELL_ID=" + globaltest.CellID, "ATOLL_REGION=" + testRegion,
		fmt.Sprintf("ATOLL_HTTP_ADDR=127.0.0.1:%d", httpPort), "ATOLL_GLOBAL_URL=" + core.URL,
		"ATOLL_GLOBAL_ISSUER=" + issuerOf(t, a.Access), "ATOLL_DATA_DIR=" + t.TempDir(),
		"ATOLL_SERVICE_TOKEN=" + globaltest.CellToken, fmt.Sprintf("ATOLL_NATS_PORT=%d", natsPort),
		"ATOLL_GAMESERVER_COMMAND=" + gs, fmt.Sprintf("ATOLL_GAME_PORTS=%d-%d", lo, hi),
		"ATOLL_GAMESERVER_ENV=ATOLL_GAME=timed,ATOLL_GAME_DURATION=" + gameLength.String() + ",ATOLL_GAME_JOIN_TIMEOUT=20s",
		"ATOLL_HEARTBEAT_PERIOD=1s", "ATOLL_WARM_SERVERS=2", "ATOLL_MAX_SERVERS=8", "ATOLL_LOG_LEVEL=debug",
	}
	logPath := filepath.Join(t.TempDir(), "cell.log")
	child := startChild(t, bin, env, logPath)
	base := "http://" + child.addr
	cl := newClient(base)

	queued := join(t, cl, a.Access, "5v5", nil) // alone: stays queued
	wb := watch(t, base, b.Access)
	join(t, cl, b.Access, "duel", nil)
	join(t, cl, c.Access, "duel", nil)
	sb := wb.until("matched", matched)
	sc := status(t, cl, c.Access)
	gb, gc := dialGame(t, sb.Server, sb.ConnectToken), dialGame(t, sc.Server, sc.ConnectToken)
	gb.expect(t, "start")
	gc.expect(t, "start")
	before := status(t, cl, a.Access)

	child.kill9(t)
	child = startChild(t, bin, env, logPath)

	after := status(t, cl, a.Access)
	if after.Status != matchmaking.StatusQueued || after.TicketID != queued || after.TimeInQueueMs < before.TimeInQueueMs {
		t.Fatalf("queued ticket after kill -9: %+v (before: %+v)", after, before)
	}
	again := status(t, cl, b.Access)
	if again.Status != matchmaking.StatusMatched || again.SessionID != sb.SessionID || again.ConnectToken == "" {
		t.Fatalf("matched ticket after kill -9: %+v", again)
	}
	r := cl.do(t, "GET", "/sessions/"+sb.SessionID, b.Access, nil)
	var sess sessions.Session
	if err := json.Unmarshal(r.body, &sess); err != nil || r.status != http.StatusOK {
		t.Fatalf("session after kill -9: %d %s", r.status, r.body)
	}
	if sess.Status != sessions.StatusActive {
		t.Fatalf("running session after kill -9: %+v", sess)
	}
	// The game went on on its server; its results reach the restarted cell.
	if err := gb.conn.Write(context.Background(), websocket.MessageText, []byte(`{"type":"tap"}`)); err != nil {
		t.Fatal(err)
	}
	gb.expect(t, "end")
	nc, err := nats.Connect(fmt.Sprintf("nats://127.0.0.1:%d", natsPort))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	stream, err := js.Stream(ctx, bus.StreamName(globaltest.CellID))
	if err != nil {
		t.Fatal(err)
	}
	var msg *jetstream.RawStreamMsg
	eventually(t, "match.completed after the restart", func() bool {
		msg, err = stream.GetLastMsgForSubject(ctx, "cell."+globaltest.CellID+"."+sessions.KindMatchCompleted)
		return err == nil
	})
	var ev sessions.MatchCompleted
	if err := json.Unmarshal(msg.Data, &ev); err != nil || ev.SessionID != sb.SessionID {
		t.Fatalf("match.completed %s: %v", msg.Data, err)
	}
	if ev.Players[0].Score+ev.Players[1].Score != 1 {
		t.Fatalf("results %+v: want the one tap made after the restart", ev.Players)
	}
	if got := status(t, cl, a.Access); got.TicketID != queued || got.Status != matchmaking.StatusQueued {
		t.Fatalf("queued ticket at the end: %+v", got)
	}
}
