package devstack

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sort"
	"sync"
	"time"

	gameclient "github.com/atollgg/atoll/gameserver/client"
	"github.com/atollgg/atoll/internal/httpx"
)

// Bots' timings.
const (
	// botMode is the mode bots queue for: two players, so a pair of bots
	// living in the same region always makes a match.
	botMode = "duel"
	// rewardWait bounds waiting for a match's rewards: the cell's event
	// crosses the leaf to the hub and the core applies it, normally within
	// a second or two.
	rewardWait = 30 * time.Second
	// rewardPoll paces reading the match history while waiting.
	rewardPoll = 250 * time.Millisecond
	// roundTimeout bounds one bot's whole round: login, probes, route, the
	// queue, a 15 s match, results and rewards.
	roundTimeout = 2 * time.Minute
	// botHTTPTimeout bounds one HTTP call of a bot.
	botHTTPTimeout = 10 * time.Second
	// errorBackoff paces a bot after a failed round.
	errorBackoff = 2 * time.Second
)

// Stats are the bots' counters, by region where they have one.
type Stats struct {
	mu sync.Mutex // guards following
	// Playing is how many bots are in a round now, by region routed to.
	Playing map[string]int
	// Matches are distinct sessions played to the end, by region.
	Matches  map[string]int
	sessions map[string]bool
	// Rounds are finished bot rounds (one bot, one match), by region.
	Rounds map[string]int
	// QueueTotal sums the time from join to matched, by region.
	QueueTotal map[string]time.Duration
	// Rewarded counts rounds whose match showed up in the player's history
	// with xp or currency granted by the core.
	Rewarded int
	// Purchases counts store purchases; LeaderboardReads board reads.
	Purchases, LeaderboardReads int
	// Errors counts failed rounds by step; LastError is the latest.
	Errors    map[string]int
	LastError string
}

func newStats() *Stats {
	return &Stats{Playing: map[string]int{}, Matches: map[string]int{}, sessions: map[string]bool{},
		Rounds: map[string]int{}, QueueTotal: map[string]time.Duration{}, Errors: map[string]int{}}
}

// Summary is a copy of the counters.
type Summary struct {
	Matches, Rounds             map[string]int
	AvgQueue                    map[string]time.Duration
	Playing                     map[string]int
	Rewarded                    int
	Purchases, LeaderboardReads int
	Errors                      map[string]int
	LastError                   string
}

// TotalErrors sums the errors of every step.
func (s Summary) TotalErrors() int {
	n := 0
	for _, v := range s.Errors {
		n += v
	}
	return n
}

// Snapshot copies the counters.
func (st *Stats) Snapshot() Summary {
	st.mu.Lock()
	defer st.mu.Unlock()
	cp := func(m map[string]int) map[string]int {
		out := make(map[string]int, len(m))
		for k, v := range m {
			out[k] = v
		}
		return out
	}
	s := Summary{Matches: cp(st.Matches), Rounds: cp(st.Rounds), Playing: cp(st.Playing), Errors: cp(st.Errors),
		Rewarded: st.Rewarded, Purchases: st.Purchases, LeaderboardReads: st.LeaderboardReads,
		LastError: st.LastError, AvgQueue: map[string]time.Duration{}}
	for r, n := range st.Rounds {
		if n > 0 {
			s.AvgQueue[r] = st.QueueTotal[r] / time.Duration(n)
		}
	}
	return s
}

func (st *Stats) fail(step string, err error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.Errors[step]++
	st.LastError = step + ": " + err.Error()
}

// bot is one simulated player living in a region (its loopback address).
type bot struct {
	id       int
	home     int
	deviceID string
	hc       *http.Client
	global   string
	stats    *Stats
	bought   bool
}

func newBot(id, home int, globalURL string, stats *Stats) *bot {
	var b [8]byte
	_, _ = rand.Read(b[:])
	local := &net.TCPAddr{IP: homeIP(home)}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.DialContext = (&net.Dialer{LocalAddr: local, Timeout: botHTTPTimeout}).DialContext
	return &bot{id: id, home: home, deviceID: "atoll-dev-bot-" + hex.EncodeToString(b[:]),
		hc: &http.Client{Timeout: botHTTPTimeout, Transport: tr}, global: globalURL, stats: stats}
}

// run plays rounds until ctx ends; a round in progress when stop closes
// is finished, none is started after.
func (b *bot) run(ctx context.Context, stop <-chan struct{}) {
	defer b.hc.CloseIdleConnections()
	for {
		select {
		case <-stop:
			return
		case <-ctx.Done():
			return
		default:
		}
		if err := b.round(ctx); err != nil {
			if ctx.Err() != nil {
				return
			}
			select {
			case <-time.After(errorBackoff):
			case <-ctx.Done():
				return
			}
		}
	}
}

type stepErr struct {
	step string
	err  error
}

func (e *stepErr) Error() string { return e.step + ": " + e.err.Error() }

func step(name string, err error) error {
	if err == nil {
		return nil
	}
	return &stepErr{name, err}
}

// round is the whole journey once: device login, probe every region's
// beacons, route, join, play, results, rewards, leaderboard, a purchase.
func (b *bot) round(ctx context.Context) (err error) {
	ctx, cancel := context.WithTimeout(ctx, roundTimeout)
	defer cancel()
	region := ""
	defer func() {
		if err != nil && ctx.Err() == nil || err != nil && errors.Is(ctx.Err(), context.DeadlineExceeded) {
			var se *stepErr
			name := "round"
			if errors.As(err, &se) {
				name = se.step
			}
			b.stats.fail(name, err)
		}
	}()
	api := &gameclient.API{GlobalURL: b.global, HTTP: b.hc}
	sess, err := api.Login(ctx, b.deviceID)
	if err != nil {
		return step("login", err)
	}
	top, err := api.Topology(ctx)
	if err != nil {
		return step("topology", err)
	}
	ms := gameclient.ProbeRegions(ctx, top, gameclient.ProbeConfig{LocalIP: homeIP(b.home)})
	routed, err := api.Route(ctx, b.global, sess.AccessToken, ms)
	if err != nil {
		return step("route", err)
	}
	if len(routed.Cells) == 0 {
		return step("route", errors.New("no cell"))
	}
	best := routed.Cells[0]
	region = best.RegionID
	b.stats.mu.Lock()
	b.stats.Playing[region]++
	b.stats.mu.Unlock()
	defer func() {
		b.stats.mu.Lock()
		b.stats.Playing[region]--
		b.stats.mu.Unlock()
	}()
	jr, err := gameclient.PlayJourney(ctx, gameclient.JourneyConfig{GlobalURL: b.global, CellURL: best.APIURL,
		Mode: botMode, DeviceID: b.deviceID, LatencyMs: max(best.LatencyMs, 1), HTTPClient: b.hc})
	if err != nil {
		return step("play", err)
	}
	b.stats.mu.Lock()
	b.stats.Rounds[region]++
	b.stats.QueueTotal[region] += jr.MatchTook
	if !b.stats.sessions[jr.SessionID] {
		b.stats.sessions[jr.SessionID] = true
		b.stats.Matches[region]++
	}
	b.stats.mu.Unlock()
	if err := b.waitRewards(ctx, sess.AccessToken, jr.SessionID); err != nil {
		return step("rewards", err)
	}
	if err := b.get(ctx, best.APIURL+"/leaderboards/best_score?limit=5", sess.AccessToken); err != nil {
		return step("leaderboard", err)
	}
	if err := b.get(ctx, b.global+"/leaderboards/weekly_kills?limit=5", sess.AccessToken); err != nil {
		return step("leaderboard", err)
	}
	b.stats.mu.Lock()
	b.stats.LeaderboardReads += 2
	b.stats.mu.Unlock()
	if !b.bought {
		if err := b.purchase(ctx, sess.AccessToken); err != nil {
			return step("purchase", err)
		}
		b.bought = true
	}
	return nil
}

// waitRewards reads the player's match history until the session is there
// with what the core granted for it.
func (b *bot) waitRewards(ctx context.Context, access, sessionID string) error {
	ctx, cancel := context.WithTimeout(ctx, rewardWait)
	defer cancel()
	for {
		var page struct {
			Matches []struct {
				MatchID string           `json:"match_id"`
				XP      int64            `json:"xp"`
				Rewards map[string]int64 `json:"rewards"`
			} `json:"matches"`
		}
		if err := b.call(ctx, http.MethodGet, b.global+"/player/me/matches", access, nil, &page, ""); err != nil {
			return err
		}
		for _, m := range page.Matches {
			if m.MatchID == sessionID {
				granted := m.XP
				for _, v := range m.Rewards {
					granted += v
				}
				if granted <= 0 {
					return fmt.Errorf("match %s in history without rewards", sessionID)
				}
				b.stats.mu.Lock()
				b.stats.Rewarded++
				b.stats.mu.Unlock()
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("match %s not in the history after %s: %w", sessionID, rewardWait, ctx.Err())
		case <-time.After(rewardPoll):
		}
	}
}

// purchase buys a wooden sword with soft currency.
func (b *bot) purchase(ctx context.Context, access string) error {
	var k [12]byte
	_, _ = rand.Read(k[:])
	body := map[string]any{"item_template_id": "sword_wooden", "quantity": 1, "currency": "coins"}
	var out map[string]any
	if err := b.call(ctx, http.MethodPost, b.global+"/store/purchase", access, body, &out, "dev-bot-"+hex.EncodeToString(k[:])); err != nil {
		return err
	}
	b.stats.mu.Lock()
	b.stats.Purchases++
	b.stats.mu.Unlock()
	return nil
}

func (b *bot) get(ctx context.Context, url, access string) error {
	var out map[string]any
	return b.call(ctx, http.MethodGet, url, access, nil, &out, "")
}

func (b *bot) call(ctx context.Context, method, url, access string, body, into any, idem string) error {
	req, err := httpx.NewJSONRequest(ctx, method, url, access, body)
	if err != nil {
		return err
	}
	if idem != "" {
		req.Header.Set("Idempotency-Key", idem)
	}
	resp, err := b.hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s %s: status %d", method, url, resp.StatusCode)
	}
	return decodeLimited(resp, into)
}

// regionsOf lists the regions seen in a summary, sorted.
func regionsOf(ms ...map[string]int) []string {
	set := map[string]bool{}
	for _, m := range ms {
		for k := range m {
			set[k] = true
		}
	}
	out := make([]string, 0, len(set))
	for k := range set {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
