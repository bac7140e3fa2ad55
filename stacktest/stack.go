package stacktest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/atollgg/atoll/cell"
	"github.com/atollgg/atoll/cell/matchmaker"
	"github.com/atollgg/atoll/global"
	"github.com/atollgg/atoll/global/globaltest"
	"github.com/atollgg/atoll/internal/obs"
	"github.com/golang-jwt/jwt/v5"
)

// Stack timings and names.
const (
	// stackHeartbeat is the game servers' heartbeat period: real processes
	// answer within milliseconds, and three missed periods (1.5 s) still
	// tolerate a loaded 2-core machine running race-enabled binaries.
	stackHeartbeat = 500 * time.Millisecond
	// StackRegion is the cell's region.
	StackRegion = "local-test"
)

// StackOptions configure StartStack.
type StackOptions struct {
	// Players is the size of the default free-for-all mode (Mode); zero
	// means 2. Ignored when Modes is set.
	Players int
	// Modes replace the default mode.
	Modes []matchmaker.Mode
	// GameEnv is extra environment for the game servers, e.g.
	// "ATOLL_GAME_DURATION=5s".
	GameEnv []string
}

// Stack is a whole local stack: a global core on a throwaway database and a
// cell whose fleet runs real `atoll-gameserver` processes playing the
// arena. Packages using it need func TestMain(m *testing.M) {
// dbtest.Main(m) }.
type Stack struct {
	Core *globaltest.Core
	Cell *cell.Cell
	// GlobalURL and CellURL are where players reach the core and the cell.
	GlobalURL, CellURL string
}

// StartStack starts a stack for the test; it stops at the end of the test,
// with every game server it started. The global core accepts browsers
// from any origin (the cell serves the web client).
func StartStack(t testing.TB, opts StackOptions) *Stack {
	t.Helper()
	if opts.Players == 0 {
		opts.Players = 2
	}
	if opts.Modes == nil {
		opts.Modes = []matchmaker.Mode{{
			Name: Mode, Teams: opts.Players, TeamSize: 1, RatingWindow: 2000,
			MaxLatencyMs: 1000, QueueTimeout: matchmaker.Duration(WaitTimeout),
		}}
	}
	core := globaltest.Start(t, func(c *global.Config) { c.CORSOrigins = []string{"*"} })
	bin := filepath.Join(t.TempDir(), "atoll-gameserver")
	// Go's build cache makes every build after the first a link.
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/atollgg/atoll/gameserver/cmd/atoll-gameserver").CombinedOutput(); err != nil {
		t.Fatalf("arenatest: build the game server: %v\n%s", err, out)
	}
	lo := 23000 + 40*rand.IntN(400)
	c, err := cell.New(cell.Config{
		CellID: globaltest.CellID, Region: StackRegion, HTTPAddr: "127.0.0.1:0",
		GlobalURL: core.URL, GlobalIssuer: accessIssuer(t, core), DataDir: t.TempDir(), ServiceToken: globaltest.CellToken,
		Modes: opts.Modes, GameServerCommand: []string{bin}, GameServerEnv: opts.GameEnv,
		GamePortMin: lo, GamePortMax: lo + 39, WarmServers: 1, MaxServers: 8, HeartbeatPeriod: stackHeartbeat,
		Log: obs.Discard(),
	})
	if err != nil {
		t.Fatalf("arenatest: cell: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), WaitTimeout)
	defer cancel()
	if err := c.Start(ctx); err != nil {
		t.Fatalf("arenatest: start cell: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), WaitTimeout)
		defer cancel()
		// Drain stops the game servers too; a cell's Shutdown leaves them
		// running for its next start to re-adopt.
		if err := c.Fleet.Drain(ctx); err != nil {
			t.Errorf("arenatest: drain the fleet: %v", err)
		}
		if err := c.Shutdown(ctx); err != nil {
			t.Errorf("arenatest: cell shutdown: %v", err)
		}
	})
	return &Stack{Core: core, Cell: c, GlobalURL: core.URL, CellURL: c.URL()}
}

// accessIssuer returns the "iss" the core puts in access tokens, read
// (unverified) from a throwaway guest's token.
func accessIssuer(t testing.TB, core *globaltest.Core) string {
	t.Helper()
	var claims jwt.RegisteredClaims
	if _, _, err := jwt.NewParser().ParseUnverified(core.Guest(t).Access, &claims); err != nil {
		t.Fatalf("arenatest: read the core's issuer: %v", err)
	}
	if claims.Issuer == "" {
		t.Fatal("arenatest: the core's access tokens have no issuer")
	}
	return claims.Issuer
}

// String describes the stack for test logs.
func (s *Stack) String() string {
	return fmt.Sprintf("core %s, cell %s", s.GlobalURL, s.CellURL)
}
