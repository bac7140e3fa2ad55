package webclient_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/atollgg/atoll/gameserver/arena"
	"github.com/atollgg/atoll/gameserver/client"
	"github.com/atollgg/atoll/internal/dbtest"
	"github.com/atollgg/atoll/stacktest"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

// pagePoll paces polling the page's state: it changes at the tick rate.
const pagePoll = 100 * time.Millisecond

// pageState is what the test reads of window.atoll.
type pageState struct {
	Phase         string  `json:"phase"`
	Error         string  `json:"error"`
	PlayerID      string  `json:"playerId"`
	SessionID     string  `json:"sessionId"`
	Seat          int     `json:"seat"`
	Tick          int     `json:"tick"`
	Snapshots     int     `json:"snapshots"`
	Players       int     `json:"players"`
	InputsSent    int     `json:"inputsSent"`
	MyProjectiles int     `json:"myProjectiles"`
	RTT           float64 `json:"rtt"`
	Predicted     *struct {
		X, Y  float64
		Alive bool
	} `json:"predicted"`
	Prediction *struct {
		Reconciliations int     `json:"reconciliations"`
		Mispredictions  int     `json:"mispredictions"`
		MaxError        float64 `json:"maxError"`
	} `json:"prediction"`
	Results *struct {
		Players []client.PlayerResult `json:"players"`
	} `json:"results"`
}

// drawnHues counts the hues (30° buckets) of the saturated pixels the
// canvas shows inside the arena: the floor and walls are greys and blues
// of low saturation, while players, their health bars and projectiles are
// vivid, each player its own hue.
const drawnHues = `(() => {
  const c = document.getElementById("view"), g = c.getContext("2d"), dpr = window.devicePixelRatio || 1;
  const a = atoll.screenOf(0, 0), b = atoll.screenOf(%f, %f);
  const img = g.getImageData(a.x * dpr, a.y * dpr, (b.x - a.x) * dpr, (b.y - a.y) * dpr).data;
  const hues = new Map();
  for (let i = 0; i < img.length; i += 4) {
    const r = img[i], gr = img[i + 1], bl = img[i + 2], mx = Math.max(r, gr, bl), mn = Math.min(r, gr, bl);
    if (mx - mn < 100) continue;
    let h = mx === r ? (gr - bl) / (mx - mn) : mx === gr ? 2 + (bl - r) / (mx - mn) : 4 + (r - gr) / (mx - mn);
    h = Math.floor(((h * 60 + 360) %% 360) / 30);
    hues.set(h, (hues.get(h) || 0) + 1);
  }
  let n = 0;
  for (const count of hues.values()) if (count >= 10) n++;
  return n;
})()`

const readState = `JSON.stringify((() => {
  const a = window.atoll || {};
  return { phase: a.phase, error: a.error, playerId: a.playerId, sessionId: a.sessionId, seat: a.seat, tick: a.tick,
    snapshots: a.snapshots, players: a.players, inputsSent: a.inputsSent, myProjectiles: a.myProjectiles, rtt: a.rtt,
    predicted: a.predicted, prediction: a.prediction, results: a.results };
})())`

// state reads the page's state.
func (p *page) state() pageState {
	p.t.Helper()
	var raw string
	p.eval(readState, &raw)
	var s pageState
	if err := json.Unmarshal([]byte(raw), &s); err != nil {
		p.t.Fatalf("page state %s: %v", raw, err)
	}
	return s
}

// until polls the page until ok holds, failing on a page error.
func (p *page) until(what string, timeout time.Duration, ok func(pageState) bool) pageState {
	p.t.Helper()
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(pagePoll)
	defer tick.Stop()
	for {
		s := p.state()
		if ok(s) {
			return s
		}
		if s.Phase == "error" || time.Now().After(deadline) {
			p.dumpLogs()
			p.t.Fatalf("waiting for %s: page state %+v", what, s)
		}
		<-tick.C
	}
}

// TestBrowserPlaysAMatch loads the cell's /play/ page in headless Chromium:
// the page logs in as a guest on the global core (cross-origin), queues,
// is matched with two Go bots, connects to a real game-server process and
// plays with the keyboard and mouse, predicting its own movement. The
// canvas shows the game (screenshot kept in artifacts/), and the match's
// results reach the page from the cell.
func TestBrowserPlaysAMatch(t *testing.T) {
	const limit = 15 * time.Second
	st := stacktest.StartStack(t, stacktest.StackOptions{Players: 3, GameEnv: []string{"ATOLL_GAME_DURATION=" + limit.String()}})
	p := startChromium(t)
	p.call("Page.navigate", map[string]any{"url": st.CellURL + "/play/"}, nil)

	ctx, cancel := context.WithTimeout(context.Background(), 2*stacktest.WaitTimeout)
	defer cancel()
	bots := make([]client.JourneyResult, 2)
	botErrs := make([]error, 2)
	var wg sync.WaitGroup
	for i := range bots {
		wg.Add(1)
		go func() {
			defer wg.Done()
			bots[i], botErrs[i] = client.PlayJourney(ctx, client.JourneyConfig{GlobalURL: st.GlobalURL, CellURL: st.CellURL, Mode: stacktest.Mode})
		}()
	}
	defer wg.Wait()

	s := p.until("the match to start", stacktest.WaitTimeout, func(s pageState) bool {
		return s.Phase == "playing" && s.Snapshots >= 10 && s.Predicted != nil
	})
	if s.Players != 3 {
		t.Errorf("the page sees %d players, want itself and two bots", s.Players)
	}
	start := *s.Predicted

	// Walk towards the middle of the arena (sliding along any wall in the
	// way), then aim where nothing blocks a shot and hold the button.
	keys := [][3]any{{"KeyD", "d", 68}, {"KeyS", "s", 83}}
	if start.X > arena.DefaultWidth/2 {
		keys[0] = [3]any{"KeyA", "a", 65}
	}
	if start.Y > arena.DefaultHeight/2 {
		keys[1] = [3]any{"KeyW", "w", 87}
	}
	for _, k := range keys {
		p.key(k[0].(string), k[1].(string), k[2].(int), true)
	}
	s = p.until("the player to move", 10*time.Second, func(s pageState) bool {
		return s.Predicted != nil && math.Hypot(s.Predicted.X-start.X, s.Predicted.Y-start.Y) > 1
	})
	for _, k := range keys {
		p.key(k[0].(string), k[1].(string), k[2].(int), false)
	}
	pressed := false
	s = p.until("the player to shoot", 10*time.Second, func(s pageState) bool {
		if s.MyProjectiles > 0 {
			return true
		}
		if s.Predicted == nil || !s.Predicted.Alive {
			return false
		}
		var at struct{ X, Y float64 }
		target := clearShot(arena.Vec2{X: s.Predicted.X, Y: s.Predicted.Y})
		p.eval(fmt.Sprintf("atoll.screenOf(%f, %f)", target.X, target.Y), &at)
		p.mouse("mouseMoved", at.X, at.Y)
		if !pressed {
			p.mouse("mousePressed", at.X, at.Y)
			pressed = true
		}
		return false
	})
	p.mouse("mouseReleased", 0, 0)
	var hues int
	p.eval(fmt.Sprintf(drawnHues, arena.DefaultWidth, arena.DefaultHeight), &hues)
	if hues < 2 {
		t.Errorf("the arena on the canvas shows %d vivid hues: it does not draw the players", hues)
	}
	shot := filepath.Join(artifactsDir(t), "webclient-arena.png")
	if err := os.WriteFile(shot, p.screenshot(), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot of the match (%d vivid hues in the arena): %s", hues, shot)

	s = p.until("the match to end with the cell's results", limit+stacktest.WaitTimeout, func(s pageState) bool {
		return s.Phase == "over" && s.Results != nil
	})
	if pr := s.Prediction; pr == nil || pr.Reconciliations < 30 || pr.MaxError > 0.2 {
		t.Errorf("browser prediction %+v: want many reconciliations and errors within quantization", pr)
	}
	var mine *client.PlayerResult
	for i := range s.Results.Players {
		if s.Results.Players[i].PlayerID == s.PlayerID {
			mine = &s.Results.Players[i]
		}
	}
	if mine == nil || len(s.Results.Players) != 3 || mine.TimePlayedS < limit.Seconds()-2 {
		t.Errorf("results %+v: want 3 players with the browser's full match", s.Results.Players)
	}
	wg.Wait()
	for i, err := range botErrs {
		if err != nil {
			t.Errorf("bot %d: %v", i, err)
		} else if bots[i].SessionID != s.SessionID {
			t.Errorf("bot %d played session %s, the browser %s", i, bots[i].SessionID, s.SessionID)
		}
	}
	t.Logf("browser: seat %d, %d snapshots, %d inputs, rtt %.1f ms, prediction %+v, result %+v",
		s.Seat, s.Snapshots, s.InputsSent, s.RTT, s.Prediction, mine)
}

// clearShot returns a point 3 units from pos in a direction no wall or
// world edge blocks (the default arena's obstacles), so a shot fired that
// way leaves the muzzle.
func clearShot(pos arena.Vec2) arena.Vec2 {
	cfg := arena.Config{}.WithDefaults()
	margin := cfg.PlayerRadius + cfg.ProjectileRadius
	for k := range 8 {
		dir := arena.AngleFromRadians(float64(k) * math.Pi / 4).Dir()
		to := pos.Add(dir.Scale(3))
		if to.X < margin || to.Y < margin || to.X > cfg.Width-margin || to.Y > cfg.Height-margin {
			continue
		}
		blocked := false
		for _, o := range cfg.Obstacles {
			grown := arena.Rect{Min: arena.Vec2{X: o.Min.X - margin, Y: o.Min.Y - margin}, Max: arena.Vec2{X: o.Max.X + margin, Y: o.Max.Y + margin}}
			if _, hit := arena.SegmentHitsRect(pos, to, grown); hit {
				blocked = true
			}
		}
		if !blocked {
			return to
		}
	}
	return arena.Vec2{X: cfg.Width / 2, Y: cfg.Height / 2}
}
