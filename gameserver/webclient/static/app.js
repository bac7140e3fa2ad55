// Atoll's browser client: guest login on the global core, matchmaking on
// the cell, then the arena over the game server's WebSocket in netcode's
// JSON mode, with client-side prediction of the player's own movement and
// reconciliation against every snapshot. Plain JavaScript, no build step.
"use strict";

(() => {
  // Protocol and rules shared with the Go server (gameserver/netcode,
  // gameserver/arena, gameserver/predict).
  const PROTOCOL_VERSION = 1;
  const POSITION_SCALE = 16;        // netcode.PositionScale
  const MOVE_STEPS = 127;           // arena's movement quantization
  const MAX_INPUTS_PER_FRAME = 32;  // netcode.MaxInputsPerFrame
  const MAX_PENDING = 128;          // predict.MaxPending
  const MISPREDICT_TOLERANCE = 0.09; // predict.MispredictTolerance
  const FLAG_ALIVE = 1, FLAG_CONNECTED = 2;
  const PING_EVERY_MS = 1000;
  const MAX_RECONNECTS = 3;
  const RESULTS_POLL_MS = 500, RESULTS_POLLS = 40; // the cell records results within seconds
  const DEVICE_KEY = "atoll.device_id";

  const canvas = document.getElementById("view");
  const ctx2d = canvas.getContext("2d");
  const statusEl = document.getElementById("status");
  const againBtn = document.getElementById("again");

  // state is everything the page knows; window.atoll exposes a summary for
  // tests and curious players.
  const state = {
    phase: "loading", error: "", cfg: null, session: null, region: "", mode: "",
    ticket: null, sessionId: "", seat: -1, rules: null, tickRate: 30,
    snap: null, prevSnap: null, snapAt: 0, prevSnapAt: 0, snapshots: 0,
    events: [], rtt: 0, inputsSent: 0, reconnects: 0, results: null, kick: null,
  };
  window.atoll = {
    get phase() { return state.phase; },
    get error() { return state.error; },
    get playerId() { return state.session ? state.session.player_id : ""; },
    get sessionId() { return state.sessionId; },
    get probes() { try { return JSON.parse(localStorage.getItem("atoll.probes") || "null"); } catch (e) { return null; } },
    get seat() { return state.seat; },
    get tick() { return state.snap ? state.snap.tick : 0; },
    get snapshots() { return state.snapshots; },
    get players() { return state.snap ? (state.snap.players || []).length : 0; },
    get me() { return state.snap ? findPlayer(state.snap, state.seat) : null; },
    get inputsSent() { return state.inputsSent; },
    get myProjectiles() { return state.snap ? state.snap.projectiles.filter((p) => p.owner === state.seat).length : 0; },
    get predicted() { return pred && pred.hasState ? { x: pred.pos.x, y: pred.pos.y, alive: pred.alive } : null; },
    screenOf(x, y) { return screenOf({ x, y }); },
    get rtt() { return state.rtt; },
    get prediction() { return pred ? pred.stats() : null; },
    get results() { return state.results; },
  };

  function setStatus(title, detail) {
    statusEl.replaceChildren();
    if (!title) return;
    const h = document.createElement("h1");
    h.textContent = title;
    statusEl.append(h);
    if (detail) {
      const p = document.createElement("div");
      p.textContent = detail;
      statusEl.append(p);
    }
  }

  function fail(what, err) {
    state.phase = "error";
    state.error = what + ": " + (err && err.message ? err.message : String(err));
    setStatus("Something went wrong", state.error);
    againBtn.style.display = "block";
  }

  // ---------------------------------------------------------------- HTTP

  async function api(method, url, token, body) {
    const headers = {};
    if (token) headers.Authorization = "Bearer " + token;
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const resp = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await resp.text();
    let data = null;
    try { data = text ? JSON.parse(text) : null; } catch (e) { data = null; }
    if (!resp.ok) {
      const err = new Error((data && data.error && data.error.message) || (resp.status + " " + resp.statusText));
      err.status = resp.status;
      err.code = data && data.error ? data.error.code : "";
      throw err;
    }
    return data;
  }

  function deviceId() {
    let id = localStorage.getItem(DEVICE_KEY);
    if (!id) {
      const bytes = new Uint8Array(16);
      crypto.getRandomValues(bytes);
      id = "web-" + Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
      localStorage.setItem(DEVICE_KEY, id);
    }
    return id;
  }

  // cellRTT estimates the round trip to the cell, reported as this
  // region's latency when joining.
  async function cellRTT() {
    let best = Infinity;
    for (let i = 0; i < 3; i++) {
      const t0 = performance.now();
      await fetch("/healthz", { cache: "no-store" });
      best = Math.min(best, performance.now() - t0);
    }
    return Math.max(1, Math.round(best));
  }

  // ------------------------------------------------------ region probing
  // Browsers cannot send UDP, so each region is probed over its relays'
  // WebSocket /ping (relay/beacon): several pings, the minimum round trip
  // and the share lost. Figures are cached, and the chosen region changes
  // only when it got 1.2x slower than when chosen or another is 1.2x
  // faster (the Go client's RegionChooser does the same).
  const PROBES = 5, PROBE_SPACING_MS = 25, PROBE_TIMEOUT_MS = 1000;
  const PROBE_CACHE_KEY = "atoll.probes", PROBE_CACHE_MS = 5 * 60 * 1000, SWITCH_FACTOR = 1.2;

  function pingRegion(url) {
    return new Promise((resolve) => {
      let ws, best = Infinity, got = 0, sent = 0, t0 = 0, timer = 0;
      const done = () => {
        clearTimeout(timer);
        try { ws.close(); } catch (e) { /* already closed */ }
        resolve({ rtt: best, loss: 1 - got / PROBES });
      };
      const next = () => {
        if (sent === PROBES) return done();
        sent++;
        t0 = performance.now();
        ws.send(String(sent));
        clearTimeout(timer);
        timer = setTimeout(() => setTimeout(next, PROBE_SPACING_MS), PROBE_TIMEOUT_MS);
      };
      try { ws = new WebSocket(url); } catch (e) { return resolve({ rtt: Infinity, loss: 1 }); }
      ws.onopen = next;
      ws.onerror = done;
      ws.onmessage = (ev) => {
        let reply;
        try { reply = JSON.parse(ev.data); } catch (e) { return; }
        if (reply.echo !== String(sent)) return; // late reply to an earlier ping
        best = Math.min(best, performance.now() - t0);
        got++;
        clearTimeout(timer);
        setTimeout(next, PROBE_SPACING_MS);
      };
    });
  }

  // probeRegions returns {region: {rtt, loss}} for every region of the
  // core's GET /topology, from the cache while it is fresh.
  async function probeRegions() {
    try {
      const cached = JSON.parse(localStorage.getItem(PROBE_CACHE_KEY) || "null");
      if (cached && Date.now() - cached.at < PROBE_CACHE_MS) return cached;
    } catch (e) { /* a broken cache is re-measured */ }
    let top;
    try { top = await api("GET", state.cfg.global_url + "/topology"); } catch (e) { return null; }
    const out = {};
    await Promise.all((top.regions || []).map(async (r) => {
      const relay = (r.relays || [])[0];
      out[r.id] = relay ? await pingRegion(relay.ping_url) : { rtt: Infinity, loss: 1 };
    }));
    const prev = JSON.parse(localStorage.getItem(PROBE_CACHE_KEY) || "null") || {};
    const result = { at: Date.now(), regions: out, chosen: chooseRegion(prev, out) };
    localStorage.setItem(PROBE_CACHE_KEY, JSON.stringify(result));
    return result;
  }

  function chooseRegion(prev, regions) {
    let best = "", bestRTT = Infinity;
    for (const [id, m] of Object.entries(regions)) if (m.loss < 1 && m.rtt < bestRTT) { best = id; bestRTT = m.rtt; }
    const cur = prev.chosen && regions[prev.chosen.id];
    if (cur && cur.loss < 1 && cur.rtt <= SWITCH_FACTOR * prev.chosen.rtt && bestRTT * SWITCH_FACTOR >= cur.rtt) return prev.chosen;
    return best ? { id: best, rtt: bestRTT } : prev.chosen || null;
  }

  // --------------------------------------------------------- matchmaking

  async function start() {
    againBtn.style.display = "none";
    state.results = null; state.kick = null; state.snap = null; state.prevSnap = null;
    state.snapshots = 0; state.events = []; state.reconnects = 0; state.sessionId = ""; state.seat = -1;
    try {
      if (!state.cfg) state.cfg = await api("GET", "config.json");
      state.phase = "login";
      setStatus("Logging in…");
      state.session = await api("POST", state.cfg.global_url + "/auth/device", "", { device_id: deviceId() });
      const modes = await api("GET", "/matchmaking/modes");
      state.region = modes.region;
      const wanted = new URLSearchParams(location.search).get("mode") || state.cfg.mode;
      const names = (modes.modes || []).map((m) => m.name);
      state.mode = names.includes(wanted) ? wanted : names[0];
      if (!state.mode) throw new Error("the cell offers no game mode");
      const latency = await cellRTT();
      const probed = await probeRegions();
      state.phase = "queue";
      setStatus("Finding a match…", state.mode + " in " + state.region);
      try {
        const lat = {};
        // Every probed region's figure; the cell's own region is always
        // present (matchmaking requires it), measured or from the cell.
        for (const [id, m] of Object.entries((probed && probed.regions) || {})) {
          if (m.loss < 1 && Number.isFinite(m.rtt)) lat[id] = Math.max(1, Math.round(m.rtt));
        }
        if (!(state.region in lat)) lat[state.region] = latency;
        await api("POST", "/matchmaking/join", state.session.access_token, { game_mode: state.mode, latencies_ms: lat });
        state.queued = true;
      } catch (e) {
        if (e.status !== 409) throw e; // 409: already queued or matched — follow that ticket
      }
      const st = await waitMatched();
      connect(st);
    } catch (e) {
      fail(state.phase, e);
    }
  }

  // A tab that closes (or navigates away) while queued cancels its ticket,
  // so nobody is matched with a player who left. keepalive lets the request
  // outlive the page; a matched ticket is the game server's business.
  function cancelQueued() {
    if (!state.queued || !state.session || (state.ticket && state.ticket.status !== "queued")) return;
    state.queued = false;
    try {
      fetch("/matchmaking/ticket", {
        method: "DELETE", keepalive: true,
        headers: { Authorization: "Bearer " + state.session.access_token },
      });
    } catch (e) { /* the page is going away either way */ }
  }
  window.addEventListener("pagehide", cancelQueued);
  window.addEventListener("beforeunload", cancelQueued);

  // waitMatched follows the cell's WebSocket until the ticket is matched;
  // browsers cannot set headers on a WebSocket, so the token goes in the
  // first message.
  function waitMatched() {
    return new Promise((resolve, reject) => {
      const proto = location.protocol === "https:" ? "wss:" : "ws:";
      const ws = new WebSocket(proto + "//" + location.host + "/ws");
      let done = false;
      ws.onopen = () => ws.send(JSON.stringify({ type: "auth", token: state.session.access_token }));
      ws.onmessage = (ev) => {
        let m;
        try { m = JSON.parse(ev.data); } catch (e) { return; }
        const st = m.status;
        if (!st) return;
        state.ticket = st;
        if (st.status === "queued") {
          setStatus("Finding a match…", state.mode + " · " + Math.round((st.time_in_queue_ms || 0) / 1000) + " s in queue");
        } else if (st.status === "matched" && st.connect_token && st.server && !st.session_over) {
          done = true;
          state.queued = false;
          ws.close(1000, "matched");
          resolve(st);
        } else if (st.status === "timed_out" || st.status === "cancelled") {
          done = true;
          ws.close(1000, "done");
          reject(new Error("matchmaking " + st.status.replace("_", " ")));
        }
      };
      ws.onclose = (ev) => {
        if (!done) reject(new Error("matchmaking connection closed (" + ev.code + " " + ev.reason + ")"));
      };
    });
  }

  // ---------------------------------------------------------- prediction

  function quantizeMove(v) {
    if (Number.isNaN(v)) return 0;
    v = Math.max(-1, Math.min(1, v));
    const x = v * MOVE_STEPS;
    return Math.sign(x) * Math.round(Math.abs(x)); // Go's math.Round: halves away from zero
  }
  // dequantizeMove is float32(q)/127 computed in float32, as Go does.
  function dequantizeMove(q) { return Math.fround(Math.max(q, -MOVE_STEPS) / MOVE_STEPS); }

  // Movement mirrors arena.Movement: axis-separated moves that stop flush
  // against walls (obstacles grown by the player radius) and world bounds.
  function Movement(rules) {
    const r = rules.player_radius;
    this.step = rules.max_speed / rules.tick_rate;
    this.minX = r; this.minY = r;
    this.maxX = rules.width - r; this.maxY = rules.height - r;
    this.walls = (rules.obstacles || []).map((o) => ({
      minX: o.Min.X - r, minY: o.Min.Y - r, maxX: o.Max.X + r, maxY: o.Max.Y + r,
    }));
  }
  const clamp = (v, lo, hi) => (v < lo ? lo : v > hi ? hi : v);
  Movement.prototype.move = function (pos, qx, qy) {
    let mx = dequantizeMove(qx), my = dequantizeMove(qy);
    const l2 = mx * mx + my * my;
    if (l2 > 1) { const l = Math.sqrt(l2); mx /= l; my /= l; }
    let x = pos.x;
    if (mx > 0) {
      let limit = this.maxX;
      for (const w of this.walls) if (w.minY < pos.y && pos.y < w.maxY && w.minX >= pos.x && w.minX < limit) limit = w.minX;
      x = Math.min(pos.x + mx * this.step, limit);
    } else if (mx < 0) {
      let limit = this.minX;
      for (const w of this.walls) if (w.minY < pos.y && pos.y < w.maxY && w.maxX <= pos.x && w.maxX > limit) limit = w.maxX;
      x = Math.max(pos.x + mx * this.step, limit);
    }
    x = clamp(x, this.minX, this.maxX);
    let y = pos.y;
    if (my > 0) {
      let limit = this.maxY;
      for (const w of this.walls) if (w.minX < x && x < w.maxX && w.minY >= pos.y && w.minY < limit) limit = w.minY;
      y = Math.min(pos.y + my * this.step, limit);
    } else if (my < 0) {
      let limit = this.minY;
      for (const w of this.walls) if (w.minX < x && x < w.maxX && w.maxY <= pos.y && w.maxY > limit) limit = w.maxY;
      y = Math.max(pos.y + my * this.step, limit);
    }
    return { x, y: clamp(y, this.minY, this.maxY) };
  };
  // settle pushes a quantized server position out of any wall it overlaps.
  Movement.prototype.settle = function (p) {
    p = { x: clamp(p.x, this.minX, this.maxX), y: clamp(p.y, this.minY, this.maxY) };
    for (const w of this.walls) {
      if (!(w.minX < p.x && p.x < w.maxX && w.minY < p.y && p.y < w.maxY)) continue;
      const left = p.x - w.minX, right = w.maxX - p.x, below = p.y - w.minY, above = w.maxY - p.y;
      const m = Math.min(left, right, below, above);
      if (m === left) p.x = w.minX; else if (m === right) p.x = w.maxX; else if (m === below) p.y = w.minY; else p.y = w.maxY;
    }
    return p;
  };

  // Predictor mirrors predict.Predictor: inputs are numbered from 1 per
  // connection, applied at once, and replayed from every snapshot's
  // authoritative position.
  function Predictor(rules) {
    this.m = new Movement(rules);
    this.pending = [];
    this.nextSeq = 1;
    this.pos = { x: 0, y: 0 };
    this.alive = false; this.hasState = false; this.lastTick = -1; this.lastAck = 0; this.deaths = 0;
    this.recon = 0; this.mispredictions = 0; this.maxErr = 0; this.sumErr = 0; this.lastErr = 0;
  }
  Predictor.prototype.apply = function (qx, qy) {
    if (this.pending.length >= MAX_PENDING) return null;
    const seq = this.nextSeq++;
    if (this.hasState && this.alive) this.pos = this.m.move(this.pos, qx, qy);
    this.pending.push({ seq, qx, qy, pos: this.pos });
    return seq;
  };
  Predictor.prototype.reconcile = function (snap, me) {
    if (this.hasState && snap.tick <= this.lastTick) return;
    this.lastTick = snap.tick;
    const ack = snap.ack_seq;
    if (this.hasState && ack < this.lastAck) return;
    const alive = (me.flags & FLAG_ALIVE) !== 0;
    const auth = this.m.settle({ x: me.x / POSITION_SCALE, y: me.y / POSITION_SCALE });
    let predicted = null, drop = 0;
    while (drop < this.pending.length && this.pending[drop].seq <= ack) {
      if (this.pending[drop].seq === ack) predicted = this.pending[drop].pos;
      drop++;
    }
    this.pending.splice(0, drop);
    const continuous = this.hasState && this.alive && alive && me.deaths === this.deaths;
    if (continuous && predicted) {
      const err = Math.hypot(predicted.x - auth.x, predicted.y - auth.y);
      this.recon++; this.lastErr = err; this.sumErr += err; this.maxErr = Math.max(this.maxErr, err);
      if (err > MISPREDICT_TOLERANCE) this.mispredictions++;
    }
    this.pos = auth; this.alive = alive; this.deaths = me.deaths; this.lastAck = ack; this.hasState = true;
    for (const p of this.pending) {
      if (alive) this.pos = this.m.move(this.pos, p.qx, p.qy);
      p.pos = this.pos;
    }
  };
  Predictor.prototype.stats = function () {
    return {
      reconciliations: this.recon, mispredictions: this.mispredictions, maxError: this.maxErr,
      meanError: this.recon ? this.sumErr / this.recon : 0, lastError: this.lastErr, pending: this.pending.length,
    };
  };

  // ---------------------------------------------------------------- game

  let pred = null;
  let gameWS = null;
  let inputTimer = 0, pingTimer = 0;
  let pingID = 0;
  let lastFireSeq = 0, hasFired = false, cooldownTicks = 1;
  const keys = new Set();
  const mouse = { x: 0, y: 0, down: false };

  function connect(st) {
    state.phase = "connecting";
    state.sessionId = st.session_id;
    setStatus("Joining the match…", st.server.host + ":" + st.server.port);
    const ws = new WebSocket("ws://" + hostPort(st.server.host, st.server.port) + "/connect");
    gameWS = ws;
    let hello = false, over = false;
    ws.onopen = () => ws.send(JSON.stringify({ token: st.connect_token }));
    ws.onmessage = (ev) => {
      if (typeof ev.data !== "string") return; // JSON mode only
      let f;
      try { f = JSON.parse(ev.data); } catch (e) { return; }
      if (!hello) {
        if (f.type !== "welcome") return;
        hello = true;
        // The first game frame chooses the JSON encoding; a ping also
        // measures the round trip.
        sendPing();
        return;
      }
      switch (f.kind) {
        case "welcome": onWelcome(f.welcome); break;
        case "snapshot":
          if (onSnapshot(f.snapshot)) { over = true; ws.close(1000, "match over"); }
          break;
        case "events": onEvents(f.events || []); break;
        case "pong": state.rtt = Math.max(0, performance.now() - f.pong.client_time / 1000); break;
        case "kick": state.kick = f.kick; break;
      }
    };
    ws.onclose = (ev) => {
      stopTimers();
      if (gameWS !== ws) return;
      gameWS = null;
      if (over || (ev.code === 1000 && ev.reason === "game_over")) { matchOver(); return; }
      if (state.kick || ev.code === 4003) {
        fail("kicked", new Error((state.kick && state.kick.detail) || "kicked by the server"));
        return;
      }
      reconnect(ev);
    };
  }

  function hostPort(host, port) { return (host.includes(":") ? "[" + host + "]" : host) + ":" + port; }

  // reconnect redials the same session with a fresh connect token after
  // the connection dropped.
  async function reconnect(ev) {
    if (state.reconnects >= MAX_RECONNECTS) {
      fail("game connection", new Error("closed (" + ev.code + " " + ev.reason + ")"));
      return;
    }
    state.reconnects++;
    state.phase = "reconnecting";
    setStatus("Reconnecting…");
    try {
      const st = await api("GET", "/matchmaking/status", state.session.access_token);
      if (st.session_id !== state.sessionId || st.session_over) { matchOver(); return; }
      if (!(st.status === "matched" && st.connect_token && st.server)) throw new Error("the session cannot be joined");
      connect(st);
    } catch (e) {
      fail("reconnect", e);
    }
  }

  function onWelcome(w) {
    if (w.version !== PROTOCOL_VERSION) { fail("welcome", new Error("server speaks protocol " + w.version)); return; }
    const c = w.config;
    state.rules = c;
    state.seat = w.player;
    state.tickRate = c.tick_rate;
    cooldownTicks = Math.max(1, Math.ceil((c.fire_cooldown_ns * c.tick_rate) / 1e9));
    pred = new Predictor(c);
    lastFireSeq = 0; hasFired = false;
    state.snap = null; state.prevSnap = null;
    state.phase = "waiting";
    setStatus("Waiting for the other players…");
    stopTimers();
    inputTimer = setInterval(sendInput, 1000 / c.tick_rate);
    pingTimer = setInterval(sendPing, PING_EVERY_MS);
  }

  function stopTimers() {
    clearInterval(inputTimer); clearInterval(pingTimer);
    inputTimer = 0; pingTimer = 0;
  }

  // onSnapshot applies a snapshot and reports whether the match is over.
  function onSnapshot(s) {
    if (!s || (state.snap && s.tick <= state.snap.tick)) return false;
    s.players = s.players || [];
    s.projectiles = s.projectiles || [];
    state.prevSnap = state.snap; state.prevSnapAt = state.snapAt;
    state.snap = s; state.snapAt = performance.now();
    state.snapshots++;
    const me = findPlayer(s, state.seat);
    if (me && pred) pred.reconcile(s, me);
    if (state.phase === "waiting" || state.phase === "connecting") { state.phase = "playing"; setStatus(""); }
    return s.over;
  }

  function onEvents(events) {
    const now = performance.now();
    for (const e of events) {
      if (e.kind === "kill") state.events.push({ at: now, text: "P" + e.player + " ⟶ P" + e.other, mine: e.player === state.seat || e.other === state.seat });
    }
    state.events = state.events.filter((e) => now - e.at < 5000).slice(-6);
  }

  function findPlayer(s, id) {
    for (const p of s.players || []) if (p.id === id) return p;
    return null;
  }

  function send(obj) {
    if (gameWS && gameWS.readyState === WebSocket.OPEN) gameWS.send(JSON.stringify(obj));
  }

  function sendPing() {
    send({ kind: "ping", ping_id: ++pingID, client_time: Math.round(performance.now() * 1000) });
  }

  // sendInput runs once per tick: sample the keys and mouse, predict, and
  // send every unacknowledged input (a lost frame costs nothing).
  function sendInput() {
    const s = state.snap;
    if (!s || !pred || s.over) return; // inputs start with the first snapshot
    let dx = 0, dy = 0;
    if (keys.has("KeyA") || keys.has("ArrowLeft")) dx -= 1;
    if (keys.has("KeyD") || keys.has("ArrowRight")) dx += 1;
    if (keys.has("KeyW") || keys.has("ArrowUp")) dy -= 1;
    if (keys.has("KeyS") || keys.has("ArrowDown")) dy += 1;
    const l = Math.hypot(dx, dy);
    if (l > 0) { dx /= l; dy /= l; }
    const qx = quantizeMove(dx), qy = quantizeMove(dy);
    const seq = pred.apply(qx, qy);
    if (seq === null) { // nothing acknowledged for seconds: the link is dead
      if (gameWS) gameWS.close(4000, "stalled");
      return;
    }
    const me = screenOf(pred.pos);
    const aim = Math.atan2(mouse.y - me.y, mouse.x - me.x);
    let fire = false;
    if ((mouse.down || keys.has("Space")) && pred.alive && (!hasFired || seq - lastFireSeq >= cooldownTicks)) {
      fire = true; hasFired = true; lastFireSeq = seq;
    }
    pred.pending[pred.pending.length - 1].input = {
      seq, tick: s.tick, move_x: qx / MOVE_STEPS, move_y: qy / MOVE_STEPS, aim, fire,
    };
    const inputs = pred.pending.slice(-MAX_INPUTS_PER_FRAME).map((p) => p.input);
    send({ kind: "input", inputs, ack: s.tick });
    state.inputsSent++;
  }

  async function matchOver() {
    state.phase = "over";
    const s = state.snap;
    const board = s ? (s.players || []).slice().sort((a, b) => b.score - a.score || b.kills - a.kills || a.deaths - b.deaths) : [];
    const mine = board.findIndex((p) => p.id === state.seat);
    setStatus("Match over", mine >= 0 ? "You placed #" + (mine + 1) + " of " + board.length : "");
    againBtn.style.display = "block";
    for (let i = 0; i < RESULTS_POLLS && state.sessionId; i++) {
      try {
        const sess = await api("GET", "/sessions/" + state.sessionId, state.session.access_token);
        if (sess.status === "ended" || sess.status === "failed") {
          state.results = sess.results || { failed: sess.failure_reason };
          const me = sess.results && (sess.results.players || []).find((p) => p.player_id === state.session.player_id);
          if (me) setStatus("Match over", "Placement #" + me.placement + " · score " + me.score + " · " + me.kills + " kills · " + me.deaths + " deaths");
          return;
        }
      } catch (e) { /* keep polling: the cell records the end shortly */ }
      await new Promise((r) => setTimeout(r, RESULTS_POLL_MS));
    }
  }

  // ------------------------------------------------------------- drawing

  let view = { scale: 1, ox: 0, oy: 0 };

  function layout() {
    const dpr = window.devicePixelRatio || 1;
    const w = window.innerWidth, h = window.innerHeight;
    if (canvas.width !== Math.round(w * dpr) || canvas.height !== Math.round(h * dpr)) {
      canvas.width = Math.round(w * dpr); canvas.height = Math.round(h * dpr);
    }
    ctx2d.setTransform(dpr, 0, 0, dpr, 0, 0);
    if (state.rules) {
      const W = state.rules.width, H = state.rules.height, pad = 24;
      const scale = Math.min((w - 2 * pad) / W, (h - 2 * pad) / H);
      view = { scale, ox: (w - W * scale) / 2, oy: (h - H * scale) / 2 };
    }
    return { w, h };
  }

  // The screen shows the world as is: x right, y down (W moves to lower y).
  function screenOf(p) {
    return { x: view.ox + p.x * view.scale, y: view.oy + p.y * view.scale };
  }

  function colorOf(id) { return "hsl(" + ((id * 137) % 360) + ", 70%, 58%)"; }

  function draw() {
    requestAnimationFrame(draw);
    const { w, h } = layout();
    ctx2d.fillStyle = "#0b1320";
    ctx2d.fillRect(0, 0, w, h);
    const r = state.rules, s = state.snap;
    if (!r) return;
    const sc = view.scale;
    // Floor and walls.
    ctx2d.fillStyle = "#15233a";
    ctx2d.fillRect(view.ox, view.oy, r.width * sc, r.height * sc);
    ctx2d.strokeStyle = "#2f4a73"; ctx2d.lineWidth = 2;
    ctx2d.strokeRect(view.ox, view.oy, r.width * sc, r.height * sc);
    ctx2d.fillStyle = "#41577a";
    for (const o of r.obstacles || []) {
      const a = screenOf({ x: o.Min.X, y: o.Min.Y });
      ctx2d.fillRect(a.x, a.y, (o.Max.X - o.Min.X) * sc, (o.Max.Y - o.Min.Y) * sc);
    }
    if (!s) return;
    const now = performance.now();
    const tickMs = 1000 / state.tickRate;
    const sinceSnap = (now - state.snapAt) / tickMs;
    // Projectiles fly straight: place them at the extrapolated tick.
    ctx2d.fillStyle = "#ffd166";
    const renderTick = s.tick + Math.min(sinceSnap, 3);
    for (const p of s.projectiles) {
      const age = (renderTick - p.spawn_tick) / state.tickRate;
      const q = screenOf({ x: (p.x + p.vx * age) / POSITION_SCALE, y: (p.y + p.vy * age) / POSITION_SCALE });
      ctx2d.beginPath(); ctx2d.arc(q.x, q.y, Math.max(2, r.projectile_radius * sc), 0, 2 * Math.PI); ctx2d.fill();
    }
    // Others are interpolated between the last two snapshots; the player
    // itself is drawn where prediction puts it.
    const span = state.prevSnap ? Math.max(1, state.snapAt - state.prevSnapAt) : 1;
    const frac = Math.min(1, (now - state.snapAt) / span);
    for (const p of s.players) {
      if (!(p.flags & FLAG_ALIVE) || !(p.flags & FLAG_CONNECTED)) continue;
      let pos = { x: p.x / POSITION_SCALE, y: p.y / POSITION_SCALE };
      if (p.id === state.seat && pred && pred.hasState && pred.alive) {
        pos = pred.pos;
      } else if (state.prevSnap) {
        const q = findPlayer(state.prevSnap, p.id);
        if (q && (q.flags & FLAG_ALIVE) && q.deaths === p.deaths) {
          pos = { x: (q.x + (p.x - q.x) * frac) / POSITION_SCALE, y: (q.y + (p.y - q.y) * frac) / POSITION_SCALE };
        }
      }
      drawPlayer(p, pos, r);
    }
    drawHUD(s, w, r);
  }

  function drawPlayer(p, pos, r) {
    const sc = view.scale, c = screenOf(pos), rad = Math.max(6, r.player_radius * sc);
    const aim = (p.id === state.seat)
      ? Math.atan2(mouse.y - c.y, mouse.x - c.x)
      : (p.aim / 65536) * 2 * Math.PI;
    ctx2d.strokeStyle = "#e8eef7"; ctx2d.lineWidth = 2;
    ctx2d.beginPath(); ctx2d.moveTo(c.x, c.y);
    ctx2d.lineTo(c.x + Math.cos(aim) * rad * 1.9, c.y + Math.sin(aim) * rad * 1.9); ctx2d.stroke();
    ctx2d.fillStyle = colorOf(p.id);
    ctx2d.beginPath(); ctx2d.arc(c.x, c.y, rad, 0, 2 * Math.PI); ctx2d.fill();
    if (p.id === state.seat) { ctx2d.strokeStyle = "#ffffff"; ctx2d.lineWidth = 3; ctx2d.stroke(); }
    const hp = Math.max(0, p.health) / r.max_health;
    ctx2d.fillStyle = "#00000088"; ctx2d.fillRect(c.x - rad, c.y - rad - 9, rad * 2, 4);
    ctx2d.fillStyle = hp > 0.5 ? "#4ade80" : hp > 0.25 ? "#facc15" : "#f87171";
    ctx2d.fillRect(c.x - rad, c.y - rad - 9, rad * 2 * hp, 4);
    ctx2d.fillStyle = "#e8eef7"; ctx2d.font = "11px system-ui"; ctx2d.textAlign = "center";
    ctx2d.fillText(p.id === state.seat ? "you" : "P" + p.id, c.x, c.y + rad + 12);
  }

  function drawHUD(s, w, r) {
    ctx2d.textAlign = "left"; ctx2d.font = "14px system-ui"; ctx2d.fillStyle = "#e8eef7";
    const secs = Math.ceil(s.ticks_left / state.tickRate);
    const me = findPlayer(s, state.seat);
    let line = state.mode + " · " + Math.floor(secs / 60) + ":" + String(secs % 60).padStart(2, "0") +
      " left · ping " + Math.round(state.rtt) + " ms";
    if (pred) line += " · prediction error " + pred.lastErr.toFixed(3);
    ctx2d.fillText(line, 12, 20);
    if (me && !(me.flags & FLAG_ALIVE)) {
      ctx2d.textAlign = "center"; ctx2d.font = "20px system-ui";
      ctx2d.fillText("Respawning in " + (me.respawn_in / state.tickRate).toFixed(1) + " s", w / 2, 60);
    }
    const board = s.players.slice().sort((a, b) => b.score - a.score || b.kills - a.kills || a.deaths - b.deaths);
    ctx2d.textAlign = "right"; ctx2d.font = "13px system-ui";
    board.slice(0, 10).forEach((p, i) => {
      ctx2d.fillStyle = p.id === state.seat ? "#ffffff" : colorOf(p.id);
      ctx2d.fillText((p.id === state.seat ? "you" : "P" + p.id) + "  " + p.score + "  (" + p.kills + "/" + p.deaths + ")", w - 12, 20 + i * 17);
    });
    ctx2d.textAlign = "left";
    state.events.forEach((e, i) => {
      ctx2d.fillStyle = e.mine ? "#ffd166" : "#9fb3d1";
      ctx2d.fillText(e.text, 12, 44 + i * 17);
    });
  }

  // ------------------------------------------------------------- input

  window.addEventListener("keydown", (e) => {
    if (["KeyW", "KeyA", "KeyS", "KeyD", "ArrowUp", "ArrowDown", "ArrowLeft", "ArrowRight", "Space"].includes(e.code)) {
      keys.add(e.code); e.preventDefault();
    }
  });
  window.addEventListener("keyup", (e) => keys.delete(e.code));
  window.addEventListener("blur", () => { keys.clear(); mouse.down = false; });
  canvas.addEventListener("mousemove", (e) => { mouse.x = e.clientX; mouse.y = e.clientY; });
  canvas.addEventListener("mousedown", (e) => { if (e.button === 0) mouse.down = true; });
  window.addEventListener("mouseup", (e) => { if (e.button === 0) mouse.down = false; });
  canvas.addEventListener("contextmenu", (e) => e.preventDefault());
  againBtn.addEventListener("click", () => start());

  requestAnimationFrame(draw);
  start();
})();
