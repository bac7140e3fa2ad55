package cell_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/atollgg/atoll/cell/matchmaking"
	"github.com/atollgg/atoll/cell/sessions"
	"github.com/atollgg/atoll/global/globaltest"
	"github.com/atollgg/atoll/internal/dbtest"
	"github.com/atollgg/atoll/internal/tokens"
	"github.com/coder/websocket"
	"github.com/nats-io/nats.go/jetstream"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

// gameServer builds the reference game server for a test; Go's build cache
// makes every build after the first a link.
func gameServer(t *testing.T) string {
	t.Helper()
	return buildBinary(t, "gameserver/cmd/atoll-gameserver")
}

// TestMatchPlayFinish is the whole path: two players with tokens from a real
// global core join, are matched, connect to their game server with their
// connect tokens, play, and the results land on the cell's stream.
func TestMatchPlayFinish(t *testing.T) {
	core := globaltest.Start(t)
	a, b := core.Guest(t), core.Guest(t)
	if _, err := core.DB.Pool.Exec(context.Background(), `INSERT INTO ratings (player_id, mode, rating) VALUES ($1, 'duel', 1510)`, a.ID); err != nil {
		t.Fatal(err)
	}
	c := startCell(t, cellConfig(t, core, issuerOf(t, a.Access), gameServer(t)))
	cl := newClient(c.URL())
	wa, wb := watch(t, c.URL(), a.Access), watch(t, c.URL(), b.Access)

	ticketA := join(t, cl, a.Access, "duel", nil)
	q := status(t, cl, a.Access)
	if q.TicketID != ticketA || (q.Status != matchmaking.StatusQueued && q.Status != matchmaking.StatusMatched) {
		t.Fatalf("status after join: %+v", q)
	}
	if q.Status == matchmaking.StatusQueued && (q.Window == nil || q.Window.Rating <= 0 || q.Window.MaxLatencyMs <= 0) {
		t.Fatalf("queued status without a window: %+v", q)
	}
	// A second ticket for the same player is refused.
	if r := cl.do(t, "POST", "/matchmaking/join", a.Access, matchmaking.JoinRequest{GameMode: "duel", LatenciesMs: map[string]int{testRegion: 20}}); r.status != http.StatusConflict || r.code() != "conflict" {
		t.Fatalf("second join: %d %s", r.status, r.body)
	}
	join(t, cl, b.Access, "duel", nil)

	sa := wa.until("matched", matched)
	sb := wb.until("matched", matched)
	if sa.SessionID != sb.SessionID || sa.Server == nil || *sa.Server != *sb.Server {
		t.Fatalf("players matched apart: %+v / %+v", sa, sb)
	}
	// The session is visible to its participants only.
	resp := cl.do(t, "GET", "/sessions/"+sa.SessionID, a.Access, nil)
	if resp.status != http.StatusOK {
		t.Fatalf("GET session: %d %s", resp.status, resp.body)
	}
	var sess sessions.Session
	if err := json.Unmarshal(resp.body, &sess); err != nil {
		t.Fatal(err)
	}
	if sess.GameMode != "duel" || sess.Region != testRegion || sess.Server == nil || len(sess.Players) != 2 ||
		(sess.Status != sessions.StatusWaitingForPlayers && sess.Status != sessions.StatusActive) {
		t.Fatalf("session %+v", sess)
	}
	outsider := core.Guest(t)
	if r := cl.do(t, "GET", "/sessions/"+sa.SessionID, outsider.Access, nil); r.status != http.StatusNotFound {
		t.Fatalf("outsider reads session: %d", r.status)
	}

	ga, gb := dialGame(t, sa.Server, sa.ConnectToken), dialGame(t, sb.Server, sb.ConnectToken)
	for _, g := range []*gameConn{ga, gb} {
		w := g.expect(t, "welcome")
		if w["session_id"] != sa.SessionID {
			t.Fatalf("welcome %v", w)
		}
	}
	ga.expect(t, "start")
	gb.expect(t, "start")
	ctx := context.Background()
	for range 3 {
		if err := ga.conn.Write(ctx, websocket.MessageText, []byte(`{"type":"tap"}`)); err != nil {
			t.Fatal(err)
		}
	}
	end := ga.expect(t, "end")
	if end["results"] == nil {
		t.Fatalf("end frame without results: %v", end)
	}
	gb.expect(t, "end")

	over := wa.until("session over", func(s matchmaking.Status) bool { return s.SessionOver })
	if over.ConnectToken != "" {
		t.Fatal("connect token issued for a finished session")
	}
	resp = cl.do(t, "GET", "/sessions/"+sa.SessionID, b.Access, nil)
	if err := json.Unmarshal(resp.body, &sess); err != nil {
		t.Fatal(err)
	}
	if sess.Status != sessions.StatusEnded || sess.Results == nil || sess.StartTime == nil || sess.EndTime == nil {
		t.Fatalf("ended session %+v", sess)
	}

	// The results event is on the stream, with its dedup id.
	msg, err := c.Bus.Stream().GetLastMsgForSubject(ctx, c.Bus.Subject(sessions.KindMatchCompleted))
	if err != nil {
		t.Fatal(err)
	}
	if msg.Header.Get(jetstream.MsgIDHeader) != sessions.MatchCompletedMsgID(sa.SessionID) {
		t.Fatalf("Nats-Msg-Id %q", msg.Header.Get(jetstream.MsgIDHeader))
	}
	var ev sessions.MatchCompleted
	if err := json.Unmarshal(msg.Data, &ev); err != nil {
		t.Fatal(err)
	}
	if ev.SessionID != sa.SessionID || ev.CellID != globaltest.CellID || ev.GameMode != "duel" || len(ev.Players) != 2 {
		t.Fatalf("match.completed %+v", ev)
	}
	scores := map[string]int{}
	for _, p := range ev.Players {
		scores[p.PlayerID] = p.Score
	}
	if scores[a.ID] != 3 || scores[b.ID] != 0 {
		t.Fatalf("scores %v, want a=3 (server counted taps), b=0", scores)
	}

	// Both may queue again now.
	join(t, cl, a.Access, "duel", nil)
}

// TestKilledGameServerRequeues: a game server killed mid-session is detected,
// its session fails and its players go back to the queue keeping their age,
// and are matched again on another server.
func TestKilledGameServerRequeues(t *testing.T) {
	core := globaltest.Start(t)
	a, b := core.Guest(t), core.Guest(t)
	cfg := cellConfig(t, core, issuerOf(t, a.Access), gameServer(t))
	c := startCell(t, cfg)
	cl := newClient(c.URL())
	wa := watch(t, c.URL(), a.Access)
	ticket := join(t, cl, a.Access, "duel", nil)
	join(t, cl, b.Access, "duel", nil)
	first := wa.until("matched", matched)

	pid := 0
	for _, s := range c.Fleet.Servers() {
		if s.SessionID == first.SessionID {
			pid = s.PID
		}
	}
	if pid == 0 {
		t.Fatal("no server process for the session")
	}
	killGroup(pid)

	second := wa.until("matched again", func(s matchmaking.Status) bool { return matched(s) && s.SessionID != first.SessionID })
	if second.TicketID != ticket {
		t.Fatalf("requeued under ticket %s, want %s", second.TicketID, ticket)
	}
	ctx := context.Background()
	old, _, err := c.Sessions.Get(ctx, first.SessionID)
	if err != nil {
		t.Fatal(err)
	}
	if old.Status != sessions.StatusFailed || old.FailureReason == "" {
		t.Fatalf("killed server's session: %+v", old)
	}
	kv, err := c.Bus.JS.KeyValue(ctx, matchmaking.TicketBucket)
	if err != nil {
		t.Fatal(err)
	}
	e, err := kv.Get(ctx, "t."+ticket)
	if err != nil {
		t.Fatal(err)
	}
	var tk matchmaking.Ticket
	if err := json.Unmarshal(e.Value(), &tk); err != nil {
		t.Fatal(err)
	}
	if tk.Requeues != 1 || tk.MatchedAt == nil || tk.EnqueuedAt.After(*tk.MatchedAt) {
		t.Fatalf("requeued ticket %+v", tk)
	}
}

// TestConnectTokensRefused: the game server refuses forged, expired,
// wrong-server and wrong-player tokens and accepts the right one.
func TestConnectTokensRefused(t *testing.T) {
	core := globaltest.Start(t)
	a, b := core.Guest(t), core.Guest(t)
	c := startCell(t, cellConfig(t, core, issuerOf(t, a.Access), gameServer(t)))
	cl := newClient(c.URL())
	wa := watch(t, c.URL(), a.Access)
	join(t, cl, a.Access, "duel", nil)
	join(t, cl, b.Access, "duel", nil)
	st := wa.until("matched", matched)

	serverID := ""
	for _, s := range c.Fleet.Servers() {
		if s.SessionID == st.SessionID {
			serverID = s.ID
		}
	}
	now := time.Now()
	sign := func(claims *tokens.ConnectClaims) string {
		tok, err := c.ConnectKeys.Sign(claims)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	issuer := "urn:atoll:cell:" + globaltest.CellID
	outsider := core.Guest(t)
	for _, tc := range []struct {
		name, token string
		code        websocket.StatusCode
	}{
		{"garbage", "not-a-token", 4401},
		{"expired", sign(tokens.NewConnectClaims(issuer, serverID, st.SessionID, a.ID, now.Add(-time.Hour), time.Minute)), 4401},
		{"other server", sign(tokens.NewConnectClaims(issuer, "gs-other", st.SessionID, a.ID, now, 0)), 4401},
		{"other player", sign(tokens.NewConnectClaims(issuer, serverID, st.SessionID, outsider.ID, now, 0)), 4403},
		{"access token", a.Access, 4401},
		{"foreign key", func() string {
			tok, err := tokens.NewKeyRing().Sign(tokens.NewConnectClaims(issuer, serverID, st.SessionID, a.ID, now, 0))
			if err != nil {
				t.Fatal(err)
			}
			return tok
		}(), 4401},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := dialGame(t, st.Server, tc.token)
			_, err := g.next(t)
			var ce websocket.CloseError
			if !errors.As(err, &ce) {
				t.Fatalf("token accepted or connection failed oddly: %v", err)
			}
			if ce.Code != tc.code && !(tc.code == 4401 && ce.Code == 4403) {
				t.Fatalf("close %d %q, want %d", ce.Code, ce.Reason, tc.code)
			}
		})
	}
	g := dialGame(t, st.Server, st.ConnectToken)
	if w := g.expect(t, "welcome"); w["player_id"] != a.ID {
		t.Fatalf("welcome %v", w)
	}
}

// TestPartyJoin: a 2v2 party queues through its leader with the member's
// consent token and plays on one team.
func TestPartyJoin(t *testing.T) {
	core := globaltest.Start(t)
	p := []globaltest.Player{core.Guest(t), core.Guest(t), core.Guest(t), core.Guest(t)}
	c := startCell(t, cellConfig(t, core, issuerOf(t, p[0].Access), gameServer(t)))
	cl := newClient(c.URL())

	consent := func(member globaltest.Player, leader string) string {
		r := cl.do(t, "POST", "/matchmaking/party/consent", member.Access, matchmaking.ConsentRequest{
			LeaderID: leader, GameMode: "2v2", LatenciesMs: map[string]int{testRegion: 30},
		})
		if r.status != http.StatusOK {
			t.Fatalf("consent: %d %s", r.status, r.body)
		}
		var cr matchmaking.ConsentResponse
		if err := json.Unmarshal(r.body, &cr); err != nil {
			t.Fatal(err)
		}
		return cr.PartyToken
	}
	tok1 := consent(p[1], p[0].ID)
	// A consent for one leader is refused for another.
	r := cl.do(t, "POST", "/matchmaking/join", p[2].Access, matchmaking.JoinRequest{
		GameMode: "2v2", LatenciesMs: map[string]int{testRegion: 20},
		Party: []matchmaking.PartyMember{{PlayerID: p[1].ID, PartyToken: tok1}},
	})
	if r.status != http.StatusForbidden || r.code() != "permission_denied" {
		t.Fatalf("stolen consent: %d %s", r.status, r.body)
	}
	// Nor for another member id.
	r = cl.do(t, "POST", "/matchmaking/join", p[0].Access, matchmaking.JoinRequest{
		GameMode: "2v2", LatenciesMs: map[string]int{testRegion: 20},
		Party: []matchmaking.PartyMember{{PlayerID: p[3].ID, PartyToken: tok1}},
	})
	if r.status != http.StatusForbidden {
		t.Fatalf("consent for another member: %d %s", r.status, r.body)
	}

	w1 := watch(t, c.URL(), p[1].Access)
	w3 := watch(t, c.URL(), p[3].Access)
	party1 := join(t, cl, p[0].Access, "2v2", []matchmaking.PartyMember{{PlayerID: p[1].ID, PartyToken: tok1}})
	if st := status(t, cl, p[1].Access); st.TicketID != party1 {
		t.Fatalf("member's status %+v, want the party ticket %s", st, party1)
	}
	join(t, cl, p[2].Access, "2v2", []matchmaking.PartyMember{{PlayerID: p[3].ID, PartyToken: consent(p[3], p[2].ID)}})
	s1 := w1.until("matched", matched)
	s3 := w3.until("matched", matched)
	if s1.SessionID != s3.SessionID {
		t.Fatal("parties matched apart")
	}
	sess, _, err := c.Sessions.Get(context.Background(), s1.SessionID)
	if err != nil {
		t.Fatal(err)
	}
	team := map[string]int{}
	for _, pl := range sess.Players {
		team[pl.ID] = pl.Team
	}
	if team[p[0].ID] != team[p[1].ID] || team[p[2].ID] != team[p[3].ID] || team[p[0].ID] == team[p[2].ID] {
		t.Fatalf("teams %v split a party", team)
	}
}

// TestCancelAndWebSocketAuth: the first-message auth of /ws, cancel, and
// status after cancel.
func TestCancelAndWebSocketAuth(t *testing.T) {
	core := globaltest.Start(t)
	a := core.Guest(t)
	c := startCell(t, cellConfig(t, core, issuerOf(t, a.Access), gameServer(t)))
	cl := newClient(c.URL())
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	url := "ws" + c.URL()[len("http"):] + "/ws"

	conn, _, err := websocket.Dial(ctx, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.CloseNow()
	if err := conn.Write(ctx, websocket.MessageText, []byte(`{"type":"auth","token":"`+a.Access+`"}`)); err != nil {
		t.Fatal(err)
	}
	read := func() matchmaking.ServerMessage {
		_, data, err := conn.Read(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var m matchmaking.ServerMessage
		if err := json.Unmarshal(data, &m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	if m := read(); m.Type != "no_ticket" {
		t.Fatalf("first message %+v", m)
	}
	ticket := join(t, cl, a.Access, "5v5", nil) // nobody else: stays queued
	if m := read(); m.Status == nil || m.Status.Status != matchmaking.StatusQueued || m.Status.TicketID != ticket {
		t.Fatalf("after join %+v", m)
	}
	if r := cl.do(t, "DELETE", "/matchmaking/ticket", a.Access, nil); r.status != http.StatusOK {
		t.Fatalf("cancel: %d %s", r.status, r.body)
	}
	if m := read(); m.Status == nil || m.Status.Status != matchmaking.StatusCancelled {
		t.Fatalf("after cancel %+v", m)
	}
	if r := cl.do(t, "DELETE", "/matchmaking/ticket", a.Access, nil); r.status != http.StatusNotFound {
		t.Fatalf("second cancel: %d %s", r.status, r.body)
	}
	// Asking again gives the same state.
	if err := conn.Write(ctx, websocket.MessageText, []byte(`{"type":"status"}`)); err != nil {
		t.Fatal(err)
	}
	if m := read(); m.Status == nil || m.Status.Status != matchmaking.StatusCancelled {
		t.Fatalf("status on request %+v", m)
	}
	// A malformed frame closes the connection with a policy violation.
	if err := conn.Write(ctx, websocket.MessageText, []byte(`{"type":"shout"}`)); err != nil {
		t.Fatal(err)
	}
	_, _, err = conn.Read(ctx)
	if websocket.CloseStatus(err) != websocket.StatusPolicyViolation {
		t.Fatalf("malformed frame: %v", err)
	}

	for _, first := range []string{`{"type":"auth","token":"forged"}`, `{"type":"status"}`, `not json`} {
		conn, _, err := websocket.Dial(ctx, url, nil)
		if err != nil {
			t.Fatal(err)
		}
		_ = conn.Write(ctx, websocket.MessageText, []byte(first))
		_, _, err = conn.Read(ctx)
		if websocket.CloseStatus(err) != websocket.StatusPolicyViolation {
			t.Fatalf("first message %s: %v", first, err)
		}
		conn.CloseNow()
	}
	// A bad header token is refused before the upgrade, with the envelope.
	r := cl.do(t, "GET", "/ws", "forged", nil)
	if r.status != http.StatusUnauthorized || r.code() != "unauthenticated" {
		t.Fatalf("bad header token: %d %s", r.status, r.body)
	}
}

// TestMalformedRequests: bad input gets 4xx JSON envelopes.
func TestMalformedRequests(t *testing.T) {
	core := globaltest.Start(t)
	a := core.Guest(t)
	c := startCell(t, cellConfig(t, core, issuerOf(t, a.Access), gameServer(t)))
	cl := newClient(c.URL())
	big := make([]byte, 64<<10)
	for i := range big {
		big[i] = ' '
	}
	for _, tc := range []struct {
		name, method, path, token string
		body                      any
		status                    int
		code                      string
	}{
		{"no token", "POST", "/matchmaking/join", "", `{}`, 401, "unauthenticated"},
		{"forged token", "GET", "/matchmaking/status", "x.y.z", nil, 401, "unauthenticated"},
		{"empty body", "POST", "/matchmaking/join", a.Access, "", 400, "invalid_argument"},
		{"not json", "POST", "/matchmaking/join", a.Access, "mode=duel", 400, "invalid_argument"},
		{"unknown field", "POST", "/matchmaking/join", a.Access, `{"game_mode":"duel","latencies_ms":{"eu-test":1},"rating":3000}`, 400, "invalid_argument"},
		{"unknown mode", "POST", "/matchmaking/join", a.Access, `{"game_mode":"chess","latencies_ms":{"eu-test":1}}`, 400, "invalid_argument"},
		{"no latency for region", "POST", "/matchmaking/join", a.Access, `{"game_mode":"duel","latencies_ms":{"us":1}}`, 400, "invalid_argument"},
		{"negative latency", "POST", "/matchmaking/join", a.Access, `{"game_mode":"duel","latencies_ms":{"eu-test":-1}}`, 400, "invalid_argument"},
		{"party in a 1v1", "POST", "/matchmaking/join", a.Access, `{"game_mode":"duel","latencies_ms":{"eu-test":1},"party":[{"player_id":"p","party_token":"t"}]}`, 400, "invalid_argument"},
		{"trailing data", "POST", "/matchmaking/join", a.Access, `{"game_mode":"duel","latencies_ms":{"eu-test":1}} {}`, 400, "invalid_argument"},
		{"too large", "POST", "/matchmaking/join", a.Access, append([]byte(`{"game_mode":"duel","latencies_ms":{"eu-test":1}`), append(big, '}')...), 413, "payload_too_large"},
		{"no ticket", "GET", "/matchmaking/status", a.Access, nil, 404, "not_found"},
		{"status with params", "GET", "/matchmaking/status?x=1", a.Access, nil, 400, "invalid_argument"},
		{"bad session id", "GET", "/sessions/../../etc", a.Access, nil, 404, "not_found"},
		{"unknown session", "GET", "/sessions/7b0f4b5e-1111-4111-8111-111111111111", a.Access, nil, 404, "not_found"},
		{"unknown route", "GET", "/nope", "", nil, 404, "not_found"},
		{"wrong method", "PUT", "/matchmaking/join", a.Access, nil, 405, "method_not_allowed"},
		{"consent to self", "POST", "/matchmaking/party/consent", a.Access, `{"leader_id":"` + a.ID + `","game_mode":"2v2","latencies_ms":{"eu-test":1}}`, 400, "invalid_argument"},
		{"consent for a 1v1", "POST", "/matchmaking/party/consent", a.Access, `{"leader_id":"x","game_mode":"duel","latencies_ms":{"eu-test":1}}`, 400, "invalid_argument"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := cl.do(t, tc.method, tc.path, tc.token, tc.body)
			if r.status != tc.status || r.code() != tc.code {
				t.Fatalf("%d %q, want %d %q: %s", r.status, r.code(), tc.status, tc.code, r.body)
			}
		})
	}
	// The modes are public.
	r := cl.do(t, "GET", "/matchmaking/modes", "", nil)
	var modes struct {
		Modes []struct{ Name string } `json:"modes"`
	}
	if err := json.Unmarshal(r.body, &modes); err != nil || r.status != 200 || !slices.ContainsFunc(modes.Modes, func(m struct{ Name string }) bool { return m.Name == "duel" }) {
		t.Fatalf("modes: %d %s", r.status, r.body)
	}
}
