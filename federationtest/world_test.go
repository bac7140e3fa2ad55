package federationtest

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/atollgg/atoll/cell"
	"github.com/atollgg/atoll/cell/matchmaker"
	"github.com/atollgg/atoll/contract"
	"github.com/atollgg/atoll/gameserver/client"
	"github.com/atollgg/atoll/global"
	"github.com/atollgg/atoll/global/federation"
	"github.com/atollgg/atoll/global/globaltest"
	"github.com/atollgg/atoll/global/hub"
	"github.com/atollgg/atoll/global/hub/hubtest"
	"github.com/atollgg/atoll/internal/db"
	"github.com/atollgg/atoll/internal/dbtest"
	"github.com/atollgg/atoll/internal/obs"
	"github.com/golang-jwt/jwt/v5"
	"github.com/jackc/pgx/v5"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

// Test timings and names.
const (
	// waitTimeout bounds every wait on a real condition (a start, a match,
	// a catch-up): a loaded 2-core machine running race-enabled binaries
	// does each in seconds.
	waitTimeout = 2 * time.Minute
	// pollInterval paces polling a condition.
	pollInterval = 50 * time.Millisecond
	// gameLength keeps each played match short (ATOLL_GAME_DURATION).
	gameLength = "2s"
	// heartbeat is the game servers' heartbeat period (three missed = dead),
	// clear of a loaded machine's scheduling hiccups.
	heartbeat = time.Second
	mode      = "duel"
	cellID    = globaltest.CellID
)

// Boards of the tests: one match adds 1 to each "matches" board.
var boards = []contract.LeaderboardDefinition{
	{Name: "g_matches", Operator: contract.OperatorIncrement, Scope: contract.ScopeGlobal, Field: contract.FieldMatches},
	{Name: "g_best", Operator: contract.OperatorBest, Scope: contract.ScopeGlobal, Field: contract.FieldScore},
	{Name: "r_matches", Operator: contract.OperatorIncrement, Scope: contract.ScopeRegional, Field: contract.FieldMatches},
}

// world is a core (with its embedded hub) and a cell that is its leaf, both
// restartable on the same database and data directories.
type world struct {
	t       *testing.T
	coreCfg global.Config
	core    *global.Server // nil while stopped
	cellCfg cell.Config
	cell    *cell.Cell // nil while stopped
	// logins replays players' real device logins while the core is down, so
	// bots can still start a journey (their tokens stay valid: the cell
	// verifies them with its cached keys).
	logins *loginCache
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// newCore starts a core with a hub whose leaf users include the test cell.
func newCore(t *testing.T) *world {
	t.Helper()
	w := &world{t: t}
	w.coreCfg = global.Config{
		DatabaseURL: dbtest.URL(t), HTTPAddr: "127.0.0.1:" + strconv.Itoa(freePort(t)), DataDir: t.TempDir(),
		AdminToken: globaltest.AdminToken, CellTokens: map[string]string{cellID: globaltest.CellToken},
		AuthRateLimit: "off", Argon2: globaltest.FastArgon2, Log: obs.Discard(), Leaderboards: boards,
		Hub: &hub.Config{LeafHost: "127.0.0.1", LeafPort: freePort(t), Cells: map[string]string{cellID: hubtest.Secret(cellID)}},
	}
	w.startCore()
	w.logins = newLoginCache(t, w.core.URL())
	return w
}

// gameServer builds the game server binary.
func gameServer(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "atoll-gameserver")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/atollgg/atoll/gameserver/cmd/atoll-gameserver").CombinedOutput(); err != nil {
		t.Fatalf("build the game server: %v\n%s", err, out)
	}
	return bin
}

// gamePorts is a range of 40 game ports unlikely to collide with another
// test binary's (the fleet skips ports in use anyway).
func gamePorts() (int, int) {
	lo := 24000 + 40*rand.IntN(300)
	return lo, lo + 39
}

// newWorld starts a core with a hub and an in-process cell joined to it
// as a leaf, with real game servers.
func newWorld(t *testing.T) *world {
	t.Helper()
	w := newCore(t)
	lo, hi := gamePorts()
	w.cellCfg = cell.Config{
		CellID: cellID, Region: "e2e", HTTPAddr: "127.0.0.1:0",
		GlobalURL: w.core.URL(), GlobalIssuer: w.issuer(), DataDir: t.TempDir(), ServiceToken: globaltest.CellToken,
		Modes: []matchmaker.Mode{{Name: mode, Teams: 2, TeamSize: 1, RatingWindow: 5000, MaxLatencyMs: 1000,
			QueueTimeout: matchmaker.Duration(waitTimeout)}},
		GameServerCommand: []string{gameServer(t)}, GameServerEnv: []string{"ATOLL_GAME_DURATION=" + gameLength},
		GamePortMin: lo, GamePortMax: hi, WarmServers: 2, MaxServers: 8, HeartbeatPeriod: heartbeat,
		HubURL: w.hub().LeafURL(), HubSecret: hubtest.Secret(cellID), Leaderboards: boards,
		Log: obs.Discard(),
	}
	w.startCell()
	return w
}

func (w *world) hub() *hub.Hub { return w.core.Hub }

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	t.Cleanup(cancel)
	return ctx
}

// startCore starts the core (and its hub) on the world's database, data
// directory, HTTP and leaf ports.
func (w *world) startCore() {
	w.t.Helper()
	ctx := ctxT(w.t)
	s, err := global.New(ctx, w.coreCfg)
	if err != nil {
		w.t.Fatalf("new core: %v", err)
	}
	if err := s.Start(ctx); err != nil {
		w.t.Fatalf("start core: %v", err)
	}
	w.core = s
	w.t.Cleanup(func() {
		if w.core == s {
			w.stopCore()
		}
	})
}

// stopCore shuts the core process's server down: HTTP, consumers, hub.
func (w *world) stopCore() {
	w.t.Helper()
	if err := w.core.Shutdown(ctxT(w.t)); err != nil {
		w.t.Errorf("core shutdown: %v", err)
	}
	w.core = nil
}

func (w *world) startCell() {
	w.t.Helper()
	c, err := cell.New(w.cellCfg)
	if err != nil {
		w.t.Fatal(err)
	}
	if err := c.Start(ctxT(w.t)); err != nil {
		w.t.Fatalf("start cell: %v", err)
	}
	w.cell = c
	w.t.Cleanup(func() {
		if w.cell != c {
			return
		}
		ctx := ctxT(w.t)
		// Drain stops the game servers, which outlive a cell's Shutdown.
		if err := c.Fleet.Drain(ctx); err != nil {
			w.t.Errorf("drain: %v", err)
		}
		if err := c.Shutdown(ctx); err != nil {
			w.t.Errorf("cell shutdown: %v", err)
		}
		w.cell = nil
	})
}

// issuer is the "iss" of the core's access tokens.
func (w *world) issuer() string {
	w.t.Helper()
	s := w.logins.login(w.t, "issuer-probe")
	var claims jwt.RegisteredClaims
	if _, _, err := jwt.NewParser().ParseUnverified(s.AccessToken, &claims); err != nil {
		w.t.Fatal(err)
	}
	return claims.Issuer
}

// loginCache is the core's device login as seen by a bot: it forwards to
// the core and remembers each device's session, which it answers with when
// the core is down.
type loginCache struct {
	core string
	srv  *httptest.Server

	mu       sync.Mutex // guards following
	sessions map[string]client.Session
}

func newLoginCache(t *testing.T, core string) *loginCache {
	lc := &loginCache{core: core, sessions: map[string]client.Session{}}
	lc.srv = httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		var body struct {
			DeviceID string `json:"device_id"`
		}
		if r.Method != http.MethodPost || r.URL.Path != "/auth/device" || json.NewDecoder(http.MaxBytesReader(rw, r.Body, 1<<10)).Decode(&body) != nil {
			http.Error(rw, "not found", http.StatusNotFound)
			return
		}
		lc.mu.Lock()
		s, ok := lc.sessions[body.DeviceID]
		lc.mu.Unlock()
		if !ok {
			http.Error(rw, "unknown device", http.StatusServiceUnavailable)
			return
		}
		rw.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(rw).Encode(s)
	}))
	t.Cleanup(lc.srv.Close)
	return lc
}

// login logs device in at the real core and remembers the session.
func (lc *loginCache) login(t *testing.T, device string) client.Session {
	t.Helper()
	api := &client.API{GlobalURL: lc.core, HTTP: &http.Client{Timeout: 30 * time.Second}}
	s, err := api.Login(ctxT(t), device)
	if err != nil {
		t.Fatal(err)
	}
	lc.mu.Lock()
	lc.sessions[device] = s
	lc.mu.Unlock()
	return s
}

// player is a bot's account.
type player struct {
	device string
	client.Session
}

func (w *world) players(n int) []player {
	ps := make([]player, n)
	for i := range ps {
		ps[i].device = fmt.Sprintf("e2e-%s-%d-%d", w.t.Name(), i, rand.Int64())
		ps[i].Session = w.logins.login(w.t, ps[i].device)
	}
	return ps
}

// play runs one duel per pair of ps, concurrently, with real bots against
// real game servers, and returns the session ids.
func (w *world) play(ps []player) []string {
	w.t.Helper()
	ctx := ctxT(w.t)
	res := make([]client.JourneyResult, len(ps))
	errs := make([]error, len(ps))
	var wg sync.WaitGroup
	for i, p := range ps {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res[i], errs[i] = client.PlayJourney(ctx, client.JourneyConfig{
				GlobalURL: w.logins.srv.URL, CellURL: w.cell.URL(), Mode: mode, DeviceID: p.device,
			})
		}()
	}
	wg.Wait()
	seen := map[string]bool{}
	var ids []string
	for i, err := range errs {
		if err != nil {
			w.t.Fatalf("journey of player %d: %v", i, err)
		}
		if !seen[res[i].SessionID] {
			seen[res[i].SessionID] = true
			ids = append(ids, res[i].SessionID)
		}
	}
	return ids
}

// eventually polls cond until it holds or waitTimeout passes.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(pollInterval)
	}
}

// openDB is a direct connection to the core's database, usable while the
// core is down.
func (w *world) openDB() *db.DB {
	w.t.Helper()
	d, err := db.Open(ctxT(w.t), db.Config{URL: w.coreCfg.DatabaseURL})
	if err != nil {
		w.t.Fatal(err)
	}
	w.t.Cleanup(d.Close)
	return d
}

// drained reports whether both federation consumers have acked every
// match.completed in CELL_EVENTS.
func (w *world) drained() bool {
	ctx := ctxT(w.t)
	for _, h := range []string{"matches", "leaderboards"} {
		c, err := w.hub().JS.Consumer(ctx, contract.CellEventsStream, federation.ConsumerName(h))
		if err != nil {
			return false
		}
		info, err := c.Info(ctx)
		if err != nil || info.NumPending != 0 || info.NumAckPending != 0 {
			return false
		}
	}
	return true
}

// sessionsApplied counts the given sessions' match_participants rows.
func sessionsApplied(t *testing.T, d *db.DB, ids []string) int {
	t.Helper()
	var n int
	if err := d.Pool.QueryRow(ctxT(t), `SELECT count(*) FROM match_participants WHERE match_id::TEXT = ANY($1)`, ids).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// state is every effect of match.completed in the core's database, one
// sorted line per row, so two states compare with ==.
func state(t *testing.T, d *db.DB) []string {
	t.Helper()
	queries := []string{
		`SELECT 'rating', player_id::TEXT, mode, rating::TEXT, games::TEXT FROM ratings`,
		`SELECT 'wallet', player_id::TEXT, currency, balance::TEXT, debt::TEXT FROM wallets`,
		`SELECT 'ledger', player_id::TEXT, currency_type, amount::TEXT, idempotency_key FROM transactions`,
		`SELECT 'history', player_id::TEXT, match_id::TEXT, xp::TEXT, '' FROM match_participants`,
		`SELECT 'board', player_id::TEXT, leaderboard || '/' || season, score::TEXT, updated_at::TEXT FROM leaderboard_scores`,
	}
	var out []string
	for _, q := range queries {
		rows, err := d.Pool.Query(ctxT(t), q)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		got, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (string, error) {
			var a, b, c, e, f string
			err := r.Scan(&a, &b, &c, &e, &f)
			return a + " " + b + " " + c + " " + e + " " + f, err
		})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, got...)
	}
	sort.Strings(out)
	return out
}

func decodeJSON(resp *http.Response, v any) error {
	return json.NewDecoder(http.MaxBytesReader(nil, resp.Body, 1<<20)).Decode(v)
}
