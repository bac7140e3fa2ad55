package federationtest

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/atollgg/atoll/contract"
	"github.com/atollgg/atoll/global/globaltest"
	"github.com/atollgg/atoll/global/hub/hubtest"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// killEvents is how many results the cell holds when the core returns:
// enough that catch-up takes seconds, so the SIGKILL lands in the middle.
const killEvents = 400

// childCell is `atoll cell` running as a child process.
type childCell struct {
	cmd    *exec.Cmd
	addr   string
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
	c := &childCell{cmd: cmd, exited: make(chan struct{})}
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

func tail(path string) string {
	b, _ := os.ReadFile(path)
	if len(b) > 8<<10 {
		b = b[len(b)-8<<10:]
	}
	return string(b)
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

// TestCellKill9DuringCatchUp: `atoll cell` (a child process, a leaf of the
// core's hub) stores results while the core is down; the core returns and
// starts catching up, and the cell is SIGKILLed in the middle and
// restarted. Every result is applied exactly once.
func TestCellKill9DuringCatchUp(t *testing.T) {
	w := newCore(t)
	d := w.openDB()
	ps := w.players(12)
	gs := gameServer(t)
	t.Cleanup(func() { killProcessesOf(gs) })
	bin := filepath.Join(t.TempDir(), "atoll")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/atollgg/atoll/cmd/atoll").CombinedOutput(); err != nil {
		t.Fatalf("build atoll: %v\n%s", err, out)
	}
	boardsFile := filepath.Join(t.TempDir(), "boards.yaml")
	if err := os.WriteFile(boardsFile, []byte("leaderboards:\n  - name: r_matches\n    operator: increment\n    scope: regional\n    field: matches\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	lo, hi := gamePorts()
	natsPort := freePort(t)
	const natsUser, natsPass = "e2e-test", "e2e-test-password-0123"
	env := []string{
		"ATOLL_CELL_ID=" + cellID, "ATOLL_REGION=e2e", fmt.Sprintf("ATOLL_HTTP_ADDR=127.0.0.1:%d", freePort(t)),
		"ATOLL_GLOBAL_URL=" + w.core.URL(), "ATOLL_GLOBAL_ISSUER=" + w.issuer(), "ATOLL_DATA_DIR=" + t.TempDir(),
		"ATOLL_SERVICE_TOKEN=" + globaltest.CellToken, fmt.Sprintf("ATOLL_NATS_PORT=%d", natsPort),
		"ATOLL_NATS_USER=" + natsUser, "ATOLL_NATS_PASSWORD=" + natsPass,
		"ATOLL_HUB_URL=" + w.hub().LeafURL(), "ATOLL_HUB_SECRET=" + hubtest.Secret(cellID),
		"ATOLL_LEADERBOARDS_FILE=" + boardsFile,
		"ATOLL_GAMESERVER_COMMAND=" + gs, fmt.Sprintf("ATOLL_GAME_PORTS=%d-%d", lo, hi),
		"ATOLL_WARM_SERVERS=1", "ATOLL_MAX_SERVERS=2", "ATOLL_LOG_LEVEL=debug",
	}
	logPath := filepath.Join(t.TempDir(), "cell.log")
	child := startChild(t, bin, env, logPath)

	// The core goes away; the cell stores a busy period's results.
	w.stopCore()
	nc, err := nats.Connect(fmt.Sprintf("nats://127.0.0.1:%d", natsPort), nats.UserInfo(natsUser, natsPass))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ids, bodies, games := duels(t, ps, killEvents)
	ctx := ctxT(t)
	for i, body := range bodies {
		msg := nats.NewMsg(contract.CellSubject(cellID, contract.KindMatchCompleted))
		msg.Data = body
		msg.Header.Set(jetstream.MsgIDHeader, contract.MatchCompletedMsgID(ids[i]))
		if _, err := js.PublishMsg(ctx, msg); err != nil {
			t.Fatal(err)
		}
	}
	nc.Close()

	// The core returns; the cell dies mid catch-up and comes back.
	w.startCore()
	eventually(t, "catch-up under way", func() bool { return sessionsApplied(t, d, ids) > 0 })
	applied := sessionsApplied(t, d, ids)
	if err := child.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-child.exited
	startChild(t, bin, env, logPath)
	eventually(t, "catch-up after the kill", func() bool { return w.drained() && sessionsApplied(t, d, ids) == 2*killEvents })
	t.Logf("killed the cell with %d of %d results applied", applied/2, killEvents)
	checkEffects(t, d, games)
}
