package devstack_test

import (
	"bufio"
	"bytes"
	"context"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/atollgg/atoll/devstack"
	"github.com/atollgg/atoll/internal/dbtest"
)

// worldRun bounds the bots' part of TestWorld: with 5 s matches every bot
// pair plays at least one match in it; the whole test takes about a minute.
const worldRun = 20 * time.Second

// TestWorld runs the whole dev world (core, hub, three regions with cell,
// relay and fleet) with four bots — two living in each of two regions — and
// checks the summary: matches in more than one region, rewards granted by
// the core from the cells' events, leaderboards read, a purchase each, no
// error, and no game server left running once Run returns. It also scrapes
// every process's /metrics and checks that every metric the Grafana
// dashboard and the alert rules in deploy/ use exists.
func TestWorld(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the whole world")
	}
	bin := filepath.Join(t.TempDir(), "atoll-gameserver")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/atollgg/atoll/gameserver/cmd/atoll-gameserver").CombinedOutput(); err != nil {
		t.Fatalf("build game server: %v\n%s", err, out)
	}
	var out bytes.Buffer
	scraped := map[string]bool{}
	sum, err := devstack.Run(context.Background(), devstack.RunConfig{
		Config: devstack.Config{GlobalAddr: "127.0.0.1:0", TopologyDir: "../topology/example", DatabaseURL: dbtest.URL(t),
			DataDir: t.TempDir(), GameServerCommand: []string{bin}, GameServerEnv: []string{"ATOLL_GAME_DURATION=5s"}},
		Bots: 4, Duration: worldRun, HumanFillAfter: -1, ProgressEvery: 5 * time.Second, Out: &out,
		BeforeStop: func(s *devstack.Stack) {
			urls := []string{s.GlobalURL()}
			for _, c := range s.Cells {
				urls = append(urls, c.URL())
			}
			for _, r := range s.Relays {
				urls = append(urls, r.URL())
			}
			for _, u := range urls {
				scrape(t, u+"/metrics", scraped)
			}
		},
	})
	t.Logf("atoll dev output:\n%s", out.String())
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	if n := sum.TotalErrors(); n != 0 {
		t.Errorf("%d errors: %v (last: %s)", n, sum.Errors, sum.LastError)
	}
	played := 0
	for _, n := range sum.Matches {
		if n > 0 {
			played++
		}
	}
	if played < 2 {
		t.Errorf("matches in %d regions (%v), want at least 2", played, sum.Matches)
	}
	rounds := 0
	for _, n := range sum.Rounds {
		rounds += n
	}
	if sum.Rewarded != rounds || rounds == 0 {
		t.Errorf("rewarded %d of %d rounds", sum.Rewarded, rounds)
	}
	if sum.Purchases != 4 || sum.LeaderboardReads != 2*rounds {
		t.Errorf("purchases %d (want 4), leaderboard reads %d (want %d)", sum.Purchases, sum.LeaderboardReads, 2*rounds)
	}
	for _, want := range []string{"Summary after", "play in a browser:", "/metrics", "← your browser lives here"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q", want)
		}
	}
	if left := processesOf(bin); len(left) > 0 {
		t.Errorf("game servers left running after the world stopped: pids %v", left)
	}
	for _, name := range deployMetrics(t) {
		if !scraped[name] {
			t.Errorf("deploy/ uses %s, which no process of the world exposes", name)
		}
	}
}

// scrape adds the metric names (with their _bucket/_sum/_count series) of
// url's exposition to names.
func scrape(t *testing.T, url string, names map[string]bool) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Errorf("scrape %s: %v", url, err)
		return
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if i := strings.IndexAny(line, "{ "); i > 0 {
			names[line[:i]] = true
		}
	}
}

// processesOf lists the pids running the executable bin (Linux /proc; none
// elsewhere).
func processesOf(bin string) []string {
	var out []string
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		if exe, err := os.Readlink(filepath.Join("/proc", e.Name(), "exe")); err == nil && exe == bin {
			out = append(out, e.Name())
		}
	}
	return out
}

var metricName = regexp.MustCompile(`\batoll_[a-z_]+`)

// deployMetrics lists the atoll_ metrics the dashboard and the alert rules
// query.
func deployMetrics(t *testing.T) []string {
	t.Helper()
	seen := map[string]bool{}
	var out []string
	for _, f := range []string{"../deploy/grafana/atoll-overview.json", "../deploy/prometheus/alerts.yml"} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range metricName.FindAllString(string(b), -1) {
			if !seen[m] && !strings.HasPrefix(m, "atoll_gg_") { // a pod label, not a metric
				seen[m] = true
				out = append(out, m)
			}
		}
	}
	if len(out) == 0 {
		t.Fatal("no metrics found in deploy/")
	}
	return out
}
