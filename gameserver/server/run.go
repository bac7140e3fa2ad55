package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/atollgg/atoll/gameserver/sdk"
	"github.com/atollgg/atoll/internal/httpx"
	"github.com/atollgg/atoll/internal/obs"
)

// finalReportTimeout bounds reporting results and shutdown once the game
// is over: long enough to ride out a cell restart (the SDK client retries
// until the restarted cell answers), short enough that a server whose cell
// is gone for good exits.
const finalReportTimeout = 2 * time.Minute

// Player events are reported to the cell by one goroutine from a queue of
// reportQueueSize, dropped beyond it: they are informational and a full
// match produces a few per player. At exit, queued reports get
// reportFlushTimeout.
const (
	reportQueueSize    = 256
	reportFlushTimeout = 2 * time.Second
)

// connCloseWait bounds the closing handshakes with players at exit before
// connections are cut.
const connCloseWait = 3 * time.Second

// EnvLogLevel sets RunFromEnv's log level (debug, info, warn, error);
// empty means info.
const EnvLogLevel = "ATOLL_LOG_LEVEL"

// RunFromEnv runs a game server configured from the environment (through
// getenv; see ConfigFromEnv) until it has played its match or ctx ends,
// logging JSON to logOut; it plays the Timed game. `atoll gameserver` uses
// RunFromEnvWith to play the arena instead (gameserver/reference).
func RunFromEnv(ctx context.Context, getenv func(string) string, logOut io.Writer) error {
	return RunFromEnvWith(ctx, getenv, logOut, nil)
}

// GameFromEnv makes the NewGameFunc a server plays from its environment.
type GameFromEnv func(getenv func(string) string) (NewGameFunc, error)

// RunFromEnvWith is RunFromEnv playing the game newGame makes from the
// environment; nil newGame, or a nil NewGameFunc from it, means the Timed
// game. Commands call it with os.Getenv, os.Stderr and a context cancelled
// by SIGINT/SIGTERM, and exit non-zero on error.
func RunFromEnvWith(ctx context.Context, getenv func(string) string, logOut io.Writer, newGame GameFromEnv) error {
	level := getenv(EnvLogLevel)
	if level == "" {
		level = "info"
	}
	log, err := obs.NewLogger(logOut, level)
	if err != nil {
		return fmt.Errorf("%s: %w", EnvLogLevel, err)
	}
	cfg, err := ConfigFromEnv(getenv)
	if err != nil {
		return err
	}
	if newGame != nil {
		if cfg.NewGame, err = newGame(getenv); err != nil {
			return err
		}
	}
	cfg.Log = log
	if err := Run(ctx, cfg); err != nil {
		log.Error("game server failed", "err", err)
		return err
	}
	return nil
}

// Run plays one match: it accepts players on cfg.Port, tells the cell it is
// Ready, waits for its allocation, plays the game, reports the results and
// shuts down. It returns nil after a match, or when ctx ends or the cell
// shuts the server down (the session then fails); an error otherwise.
func Run(ctx context.Context, cfg Config) error {
	cfg.applyDefaults()
	if err := cfg.validate(); err != nil {
		return fmt.Errorf("run game server: %w", err)
	}
	client, err := sdk.New(cfg.SDK)
	if err != nil {
		return fmt.Errorf("run game server: %w", err)
	}
	defer client.Close()
	log := cfg.Log.With("server", client.ServerID())
	r := &runner{cfg: cfg, client: client, log: log}
	return r.run(ctx)
}

type runner struct {
	cfg       Config
	client    *sdk.Client
	log       *slog.Logger
	allocated atomic.Bool // the server has received its match
}

type playerReport struct {
	connected bool
	playerID  string
}

func (r *runner) run(ctx context.Context) error {
	// Players' connections live until the end of Run, not of ctx, so they
	// can be told why the game stopped.
	serveCtx, stopServe := context.WithCancel(context.Background())
	defer stopServe()
	reports := make(chan playerReport, reportQueueSize)
	g := &gate{
		serverID: r.client.ServerID(), log: r.log, ctx: serveCtx, ready: make(chan struct{}),
		report: func(connected bool, id string) {
			select {
			case reports <- playerReport{connected, id}:
			default:
				r.log.Warn("dropping player report: queue full", "player", id)
			}
		},
	}
	mux := http.NewServeMux()
	mux.Handle("GET "+PathConnect, g)
	srv, err := httpx.Listen(net.JoinHostPort(r.cfg.Bind, strconv.Itoa(r.cfg.Port)), httpx.JSONFallback(mux))
	if err != nil {
		return fmt.Errorf("run game server: %w", err)
	}
	srv.Start()
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), connCloseWait)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()

	reporterCtx, stopReporter := context.WithCancel(context.Background())
	reporterDone := make(chan struct{})
	go func() { // owned by run: ends when reports is closed and drained, or at stopReporter
		defer close(reporterDone)
		for rep := range reports {
			var err error
			if rep.connected {
				err = r.client.PlayerConnected(reporterCtx, rep.playerID)
			} else {
				err = r.client.PlayerDisconnected(reporterCtx, rep.playerID)
			}
			if err != nil {
				r.log.Warn("report player event", "player", rep.playerID, "connected", rep.connected, "err", err)
			}
		}
	}()
	defer func() {
		// gate.stop has returned: no connection reports any more.
		close(reports)
		t := time.NewTimer(reportFlushTimeout)
		defer t.Stop()
		select {
		case <-reporterDone:
		case <-t.C:
			stopReporter()
			<-reporterDone
		}
		stopReporter()
	}()

	// life ends on ctx (SIGTERM) or when the cell shuts the server down.
	life, endLife := context.WithCancel(ctx)
	defer endLife()
	hbCtx, stopHeartbeat := context.WithCancel(context.Background())
	hbDone := make(chan struct{})
	go func() { // owned by run: ends at stopHeartbeat
		defer close(hbDone)
		err := r.client.Heartbeat(hbCtx)
		switch {
		case err == nil, errors.Is(err, context.Canceled):
		case errors.Is(err, sdk.ErrCellUnreachable) && r.allocated.Load():
			// A match in progress outlives its cell; its results get
			// finalReportTimeout to find one.
			r.log.Warn("cell unreachable; finishing the match", "err", err)
		default:
			r.log.Warn("cell ended the server", "err", err)
			endLife()
		}
	}()
	defer func() {
		stopHeartbeat()
		<-hbDone
	}()

	playErr := r.play(life, g)
	final, cancel := context.WithTimeout(context.Background(), finalReportTimeout)
	defer cancel()
	reason := ""
	if playErr != nil {
		reason = playErr.Error()
	}
	if err := r.client.Shutdown(final, reason); err != nil {
		r.log.Error("report shutdown", "err", err)
	}
	// The room is closed; players get connCloseWait to finish their
	// closing handshakes (the cell waits longer before killing us).
	closeGate(g, stopServe)
	switch {
	case playErr == nil:
		r.log.Info("match over")
		return nil
	case life.Err() != nil, errors.Is(playErr, sdk.ErrShutdown):
		r.log.Info("game server stopped", "reason", reason)
		return nil
	default:
		return playErr
	}
}

// play takes the server from Ready to the results of its match, reported.
func (r *runner) play(life context.Context, g *gate) error {
	if _, err := r.client.Ready(life); err != nil {
		return fmt.Errorf("ready: %w", err)
	}
	r.log.Info("ready")
	alloc, err := r.client.WatchAllocation(life)
	if err != nil {
		return err
	}
	r.allocated.Store(true)
	m := Match{SessionID: alloc.SessionID, Mode: alloc.Mode, Players: alloc.Players}
	room := newRoom(m, r.log, r.client.Active)
	if err := g.allocate(alloc, room); err != nil {
		room.close(CloseShuttingDown, "bad_allocation")
		return fmt.Errorf("allocation: %w", err)
	}
	r.log.Info("allocated", "session", m.SessionID, "players", len(m.Players))
	telemetryCtx, endTelemetry := context.WithCancel(context.Background())
	telemetryDone := make(chan struct{})
	go func() { // owned by play: ends at endTelemetry, after a last flush
		defer close(telemetryDone)
		r.sendTelemetry(telemetryCtx, room.telemetry, m.SessionID)
	}()
	flushTelemetry := sync.OnceFunc(func() {
		endTelemetry()
		<-telemetryDone
	})
	defer flushTelemetry()
	game, err := r.cfg.NewGame(m)
	if err != nil {
		room.close(CloseShuttingDown, "no_game")
		return fmt.Errorf("new game: %w", err)
	}
	out, err := game.Play(life, room)
	if err != nil {
		room.close(CloseShuttingDown, "server_stopping")
		return fmt.Errorf("play: %w", err)
	}
	room.close(CloseGameOver, "game_over")
	// The game's telemetry (its anti-cheat record) reaches the cell before
	// the results end the session.
	flushTelemetry()
	// Results go out even if life has ended meanwhile: the game is over.
	final, cancel := context.WithTimeout(context.Background(), finalReportTimeout)
	defer cancel()
	res := sdk.Results{SessionID: m.SessionID, StartedAt: out.StartedAt, EndedAt: out.EndedAt, Players: out.Players}
	if err := r.client.ReportResults(final, res); err != nil {
		return fmt.Errorf("report results: %w", err)
	}
	return nil
}

// closeGate waits for players' connections to finish their closing
// handshakes, cutting them after connCloseWait.
func closeGate(g *gate, cut context.CancelFunc) {
	done := make(chan struct{})
	go func() { // ends once every connection goroutine has
		g.stop()
		close(done)
	}()
	t := time.NewTimer(connCloseWait)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
		cut()
		<-done
	}
}
