package client

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/atollgg/atoll/gameserver/arena"
	"github.com/atollgg/atoll/gameserver/bot"
	"github.com/atollgg/atoll/gameserver/netcode"
	"github.com/atollgg/atoll/gameserver/predict"
	"github.com/atollgg/atoll/gameserver/server"
	"github.com/coder/websocket"
)

// Driver decides a player's input every tick: a bot, or a human's keys.
type Driver interface {
	// Input returns the input for the next tick from the newest snapshot
	// and the player's predicted position. Its Seq is ignored: the
	// connection numbers inputs.
	Input(view *netcode.Snapshot, pos arena.Vec2) arena.Input
	// Reset is called before the driver plays on a new connection.
	Reset()
}

// Bot is a Driver that plays like bot.Bot: moves, aims at the nearest
// enemy with lead, shoots when the shot is clear.
type Bot struct{ b *bot.Bot }

// NewBot returns a bot driver for seat self of a match with cfg (from the
// Welcome), deterministic for a seed.
func NewBot(cfg arena.Config, self arena.PlayerID, seed uint64) (*Bot, error) {
	b, err := bot.New(cfg, self, seed)
	if err != nil {
		return nil, fmt.Errorf("game client: %w", err)
	}
	return &Bot{b: b}, nil
}

// PlayBot plays the rest of the match on c with a bot seeded with seed.
func (c *Conn) PlayBot(ctx context.Context, seed uint64) (Result, error) {
	w := c.Welcome()
	b, err := NewBot(w.Config, w.Player, seed)
	if err != nil {
		return Result{}, err
	}
	return c.Play(ctx, b)
}

// Input implements Driver.
func (b *Bot) Input(view *netcode.Snapshot, pos arena.Vec2) arena.Input { return b.b.NextAt(view, pos) }

// Reset implements Driver.
func (b *Bot) Reset() { b.b.Reset() }

// Stats describe a connection's traffic.
type Stats struct {
	Snapshots    uint64 // newer-than-latest snapshots applied
	StaleFrames  uint64 // snapshots older than the latest (reordered)
	BadFrames    uint64 // server frames that did not decode
	InputsSent   uint64 // distinct inputs sent
	FramesOut    uint64
	BytesIn      uint64
	BytesOut     uint64
	Pongs        uint64
	RTT, MaxRTT  time.Duration
	KillsSeen    uint64 // kill events of the whole match
	PlayDuration time.Duration
}

// Result is what a connection saw of the match.
type Result struct {
	Hello Hello
	Self  arena.PlayerID
	// Over reports that the match ended (score or time limit) while
	// connected; Final is then the last snapshot, with the final scores.
	Over      bool
	EndReason arena.EndReason
	// Final is a copy of the newest snapshot received.
	Final      netcode.Snapshot
	Prediction predict.Stats
	Stats      Stats
	// Kick is set when the server kicked the player.
	Kick *netcode.Kick
}

// Me returns the player's own state in the final snapshot.
func (r *Result) Me() (netcode.PlayerState, bool) {
	p, ok := r.Final.Player(r.Self)
	if !ok {
		return netcode.PlayerState{}, false
	}
	return *p, true
}

// inbound is one frame, or the read error that ended the reader.
type inbound struct {
	data []byte
	err  error
}

// Play runs the match on this connection with d deciding the inputs, one
// per tick at the match's tick rate, predicting the player's own movement
// and reconciling with every snapshot. It returns when the match is over
// (error nil), or when ctx ends or the connection fails (the result so far
// and an error; a *CloseError says how the server closed it). The
// connection is closed either way.
func (c *Conn) Play(ctx context.Context, d Driver) (res Result, err error) {
	self := c.welcome.Player
	res = Result{Hello: c.hello, Self: self}
	pred, err := predict.New(c.welcome.Config)
	if err != nil {
		_ = c.ws.CloseNow()
		return res, fmt.Errorf("%w: %v", ErrProtocol, err)
	}
	d.Reset()
	started := time.Now()

	rctx, stopReader := context.WithCancel(ctx)
	in := make(chan inbound, readQueue)
	readerDone := make(chan struct{})
	go func() { // owned by Play: ends when the connection fails or rctx ends
		defer close(readerDone)
		for {
			_, data, err := c.ws.Read(rctx)
			select {
			case in <- inbound{data: data, err: err}:
			case <-rctx.Done():
				return
			}
			if err != nil {
				return
			}
		}
	}()
	defer func() {
		stopReader()
		_ = c.ws.CloseNow()
		<-readerDone
		res.Prediction = pred.Stats()
		c.stats.PlayDuration = time.Since(started)
		res.Stats = c.stats
	}()

	ticker := time.NewTicker(time.Second / time.Duration(c.welcome.Config.TickRate))
	defer ticker.Stop()
	pinger := time.NewTicker(c.opts.PingInterval)
	defer pinger.Stop()

	var (
		f       netcode.ServerFrame
		view    *netcode.Snapshot
		pingID  uint32
		inputs  []arena.Input
		out     []byte
		gameEnd bool // the server announced the end (event or final snapshot)
		broken  bool // a write failed: only the reader's verdict is awaited
	)
	for {
		select {
		case <-ctx.Done():
			return res, ctx.Err()

		case msg := <-in:
			if msg.err != nil {
				cerr := closeErr("read", msg.err)
				var ce *CloseError
				if errors.As(cerr, &ce) && ce.Code == server.CloseGameOver && (gameEnd || ce.Reason == "game_over") {
					return res, nil // the final snapshot may not have made it through a lossy link
				}
				return res, cerr
			}
			c.stats.BytesIn += uint64(len(msg.data))
			if err := c.cc.DecodeServerFrame(msg.data, &f); err != nil {
				c.stats.BadFrames++
				continue
			}
			switch f.Kind {
			case netcode.FrameSnapshot:
				s := f.Snapshot
				if view != nil && s.Tick <= view.Tick {
					c.stats.StaleFrames++
					continue
				}
				view = s
				c.stats.Snapshots++
				pred.ReconcileSnapshot(s, self)
				res.Final.CopyFrom(s)
				if s.Over {
					res.Over, res.EndReason, gameEnd = true, s.EndReason, true
					_ = c.ws.Close(websocket.StatusNormalClosure, "match over")
					return res, nil
				}
			case netcode.FrameEvents:
				for _, e := range f.Events {
					switch e.Kind {
					case arena.EventKill:
						c.stats.KillsSeen++
					case arena.EventMatchEnd:
						gameEnd, res.EndReason = true, e.Reason
					}
				}
			case netcode.FrameKick:
				k := f.Kick
				res.Kick = &k
			case netcode.FramePong:
				c.pong(f.Pong)
			}

		case <-ticker.C:
			if view == nil || broken {
				continue // the match has not started: nothing to act on
			}
			if _, err := pred.Apply(d.Input(view, pred.Position())); errors.Is(err, predict.ErrPendingFull) {
				return res, ErrStalled
			}
			c.stats.InputsSent++
			inputs = pred.Unacked(inputs[:0], c.opts.Redundancy)
			out, err = netcode.AppendClientFrame(out[:0], c.opts.Encoding, &netcode.ClientFrame{
				Kind: netcode.FrameInput, Inputs: inputs, HasAck: true, AckTick: view.Tick,
			})
			if err != nil {
				return res, fmt.Errorf("encode input frame: %w", err)
			}
			if err := c.write(ctx, out); err != nil {
				// The server may just have closed the connection after the
				// final snapshot: the reader reports how it ended.
				broken = true
			}

		case <-pinger.C:
			if broken {
				continue
			}
			pingID++
			if err := c.ping(ctx, pingID); err != nil {
				broken = true
			}
		}
	}
}
