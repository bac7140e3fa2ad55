package webclient_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// Headless Chromium driven over the DevTools protocol: JSON commands on
// the page target's WebSocket. No Node, no driver binary.

// Browser timings.
const (
	// browserStartTimeout bounds Chromium writing its DevTools port: it
	// starts in about a second, slower on a loaded 2-core machine.
	browserStartTimeout = 30 * time.Second
	// cdpCallTimeout bounds one DevTools command.
	cdpCallTimeout = 20 * time.Second
	// maxCDPMessage bounds one DevTools message: a full-page PNG of a
	// 1280×800 window is a few hundred KiB of base64.
	maxCDPMessage = 32 << 20
)

// chromiumArgs are the flags the issue prescribes for a headless,
// network-quiet Chromium.
var chromiumArgs = []string{
	"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
	"--disable-background-networking", "--disable-component-update", "--disable-sync",
	"--remote-debugging-port=0", "--window-size=1280,800",
}

// page is one Chromium page under the test's control.
type page struct {
	t    *testing.T
	ws   *websocket.Conn
	logs chan string // console output and exceptions, for failure reports

	mu      sync.Mutex // guards following
	nextID  int64
	waiting map[int64]chan cdpReply
}

type cdpReply struct {
	Result json.RawMessage `json:"result"`
	Error  *struct {
		Message string `json:"message"`
	} `json:"error"`
}

// startChromium launches a fresh headless Chromium and returns its page.
// A machine without Chromium fails the test with the command that
// installs it.
func startChromium(t *testing.T) *page {
	t.Helper()
	bin, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatalf("chromium is not installed: run scripts/install-deps.sh --chromium (Debian: apt-get install chromium)")
	}
	profile := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, append(chromiumArgs, "--user-data-dir="+profile, "about:blank")...)
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("start chromium: %v", err)
	}
	t.Cleanup(func() {
		cancel()
		_ = cmd.Wait()
	})

	// Chromium writes its port, then the browser target's path, to
	// DevToolsActivePort in the profile once it listens.
	var port string
	deadline := time.Now().Add(browserStartTimeout)
	for port == "" {
		if data, err := os.ReadFile(filepath.Join(profile, "DevToolsActivePort")); err == nil {
			if line, _, ok := strings.Cut(string(data), "\n"); ok && line != "" {
				port = line
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("chromium wrote no DevToolsActivePort within %v", browserStartTimeout)
		}
		time.Sleep(50 * time.Millisecond) // polling a file another process writes
	}
	var targets []struct {
		Type, WebSocketDebuggerURL string
	}
	resp, err := http.Get("http://127.0.0.1:" + port + "/json/list")
	if err != nil {
		t.Fatalf("devtools targets: %v", err)
	}
	err = json.NewDecoder(resp.Body).Decode(&targets)
	resp.Body.Close()
	if err != nil {
		t.Fatalf("devtools targets: %v", err)
	}
	var wsURL string
	for _, tg := range targets {
		if tg.Type == "page" {
			wsURL = tg.WebSocketDebuggerURL
			break
		}
	}
	if wsURL == "" {
		t.Fatalf("chromium has no page target: %+v", targets)
	}
	dctx, dcancel := context.WithTimeout(context.Background(), cdpCallTimeout)
	defer dcancel()
	ws, _, err := websocket.Dial(dctx, wsURL, nil)
	if err != nil {
		t.Fatalf("devtools websocket: %v", err)
	}
	ws.SetReadLimit(maxCDPMessage)
	p := &page{t: t, ws: ws, logs: make(chan string, 256), waiting: map[int64]chan cdpReply{}}
	readerDone := make(chan struct{})
	go func() { // dispatches replies and events; ends when the socket closes
		defer close(readerDone)
		p.read()
	}()
	t.Cleanup(func() {
		_ = ws.CloseNow()
		<-readerDone
	})
	p.call("Runtime.enable", nil, nil)
	p.call("Page.enable", nil, nil)
	return p
}

func (p *page) read() {
	for {
		_, data, err := p.ws.Read(context.Background())
		if err != nil {
			p.mu.Lock()
			for id, ch := range p.waiting {
				close(ch)
				delete(p.waiting, id)
			}
			p.mu.Unlock()
			return
		}
		var m struct {
			ID     int64           `json:"id"`
			Method string          `json:"method"`
			Params json.RawMessage `json:"params"`
			cdpReply
		}
		if json.Unmarshal(data, &m) != nil {
			continue
		}
		if m.ID != 0 {
			p.mu.Lock()
			ch := p.waiting[m.ID]
			delete(p.waiting, m.ID)
			p.mu.Unlock()
			if ch != nil {
				ch <- m.cdpReply
			}
			continue
		}
		switch m.Method {
		case "Runtime.consoleAPICalled", "Runtime.exceptionThrown":
			select {
			case p.logs <- m.Method + " " + string(m.Params):
			default: // enough to diagnose a failure
			}
		}
	}
}

// call sends a DevTools command and decodes its result into out.
func (p *page) call(method string, params, out any) {
	p.t.Helper()
	if err := p.try(method, params, out); err != nil {
		p.t.Fatalf("%s: %v", method, err)
	}
}

func (p *page) try(method string, params, out any) error {
	p.mu.Lock()
	p.nextID++
	id := p.nextID
	ch := make(chan cdpReply, 1)
	p.waiting[id] = ch
	p.mu.Unlock()
	msg, err := json.Marshal(map[string]any{"id": id, "method": method, "params": params})
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), cdpCallTimeout)
	defer cancel()
	if err := p.ws.Write(ctx, websocket.MessageText, msg); err != nil {
		return err
	}
	select {
	case r, ok := <-ch:
		if !ok {
			return errors.New("devtools connection closed")
		}
		if r.Error != nil {
			return errors.New(r.Error.Message)
		}
		if out != nil {
			return json.Unmarshal(r.Result, out)
		}
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// eval evaluates a JavaScript expression in the page and decodes its
// (JSON-serialisable) value into out.
func (p *page) eval(expr string, out any) {
	p.t.Helper()
	var res struct {
		Result struct {
			Value json.RawMessage `json:"value"`
		} `json:"result"`
		ExceptionDetails *struct {
			Text      string `json:"text"`
			Exception struct {
				Description string `json:"description"`
			} `json:"exception"`
		} `json:"exceptionDetails"`
	}
	p.call("Runtime.evaluate", map[string]any{"expression": expr, "returnByValue": true}, &res)
	if d := res.ExceptionDetails; d != nil {
		p.dumpLogs()
		p.t.Fatalf("evaluate %.80q: %s %s", expr, d.Text, d.Exception.Description)
	}
	if out != nil {
		if err := json.Unmarshal(res.Result.Value, out); err != nil {
			p.t.Fatalf("evaluate %q: %v (%s)", expr, err, res.Result.Value)
		}
	}
}

// key presses (down=true) or releases a key by its DOM code.
func (p *page) key(code, key string, vk int, down bool) {
	p.t.Helper()
	typ := "keyUp"
	if down {
		typ = "keyDown"
	}
	p.call("Input.dispatchKeyEvent", map[string]any{"type": typ, "code": code, "key": key, "windowsVirtualKeyCode": vk}, nil)
}

// mouse sends a mouse event (mouseMoved, mousePressed, mouseReleased).
func (p *page) mouse(typ string, x, y float64) {
	p.t.Helper()
	params := map[string]any{"type": typ, "x": x, "y": y}
	if typ != "mouseMoved" {
		params["button"], params["clickCount"] = "left", 1
	}
	p.call("Input.dispatchMouseEvent", params, nil)
}

// screenshot captures the page as PNG.
func (p *page) screenshot() []byte {
	p.t.Helper()
	var res struct {
		Data []byte `json:"data"` // base64 in JSON
	}
	p.call("Page.captureScreenshot", map[string]any{"format": "png"}, &res)
	return res.Data
}

// dumpLogs reports what the page logged, for a failing test.
func (p *page) dumpLogs() {
	for {
		select {
		case l := <-p.logs:
			p.t.Log("page: " + l)
		default:
			return
		}
	}
}

// artifactsDir is the repository's git-ignored artifacts directory.
func artifactsDir(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test's directory")
		}
		dir = parent
	}
	out := filepath.Join(dir, "artifacts")
	if err := os.MkdirAll(out, 0o755); err != nil {
		t.Fatal(err)
	}
	return out
}
