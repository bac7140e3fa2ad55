package beacon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"runtime"
	"sync"
	"time"

	"github.com/atollgg/atoll/contract/beacon"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
)

// BatchSize is how many datagrams one system call reads or writes
// (recvmmsg/sendmmsg on Linux): 64 amortizes the call over many packets
// while a batch's buffers (64 × 2 KiB) stay in cache.
const BatchSize = 64

// readBufferSize bounds one datagram read: requests are PacketSize bytes;
// anything longer is read in part, counted and still answered with only
// PacketSize bytes. 2 KiB holds any datagram an Ethernet path delivers whole.
const readBufferSize = 2048

// socketBuffer is the kernel buffer asked for each socket, so a burst of
// probes waits in the kernel instead of being dropped while a batch is
// answered.
const socketBuffer = 4 << 20

// Config configures a Beacon.
type Config struct {
	// Addr is the UDP address to listen on (host:port). Required.
	Addr string
	// RelayID and RegionID are echoed in every reply (at most
	// beacon.MaxIDLength bytes each). Required.
	RelayID, RegionID string
	// Load returns the load hint of replies (0-100); zero means always 0.
	Load func() uint8
	// Workers is how many sockets (SO_REUSEPORT, Linux) and goroutines
	// answer; zero means GOMAXPROCS. Elsewhere it is always 1.
	Workers int
	// PerSourceRate is the probes per LimitWindow one source address may
	// send; zero means DefaultPerSourceRate.
	PerSourceRate int
	// MaxSources bounds each worker's rate-limit table; zero means
	// DefaultMaxSources.
	MaxSources int
	// Registry receives the beacon's counters; zero means none.
	Registry prometheus.Registerer
	// Log receives socket errors; zero means slog.Default().
	Log *slog.Logger
}

// batchConn is what ipv4.PacketConn and ipv6.PacketConn share (their
// Message types are both socket.Message).
type batchConn interface {
	ReadBatch(ms []ipv4.Message, flags int) (int, error)
	WriteBatch(ms []ipv4.Message, flags int) (int, error)
}

// Beacon answers ping probes on a UDP address.
type Beacon struct {
	cfg   Config
	conns []*net.UDPConn
	addr  netip.AddrPort
	c     counters

	mu      sync.Mutex // guards following
	running bool
	closed  bool
}

// New checks cfg and binds the sockets; Run answers on them.
func New(cfg Config) (*Beacon, error) {
	switch {
	case cfg.Addr == "":
		return nil, errors.New("beacon: no address")
	case cfg.RelayID == "" || cfg.RegionID == "":
		return nil, errors.New("beacon: relay and region ids are required")
	case len(cfg.RelayID) > beacon.MaxIDLength || len(cfg.RegionID) > beacon.MaxIDLength:
		return nil, fmt.Errorf("beacon: ids longer than %d bytes", beacon.MaxIDLength)
	case cfg.Workers < 0 || cfg.PerSourceRate < 0 || cfg.MaxSources < 0:
		return nil, errors.New("beacon: negative limit")
	}
	if cfg.Workers == 0 {
		cfg.Workers = runtime.GOMAXPROCS(0)
	}
	if !reusePortSupported {
		cfg.Workers = 1
	}
	if cfg.PerSourceRate == 0 {
		cfg.PerSourceRate = DefaultPerSourceRate
	}
	if cfg.MaxSources == 0 {
		cfg.MaxSources = DefaultMaxSources
	}
	if cfg.Load == nil {
		cfg.Load = func() uint8 { return 0 }
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	b := &Beacon{cfg: cfg}
	addr := cfg.Addr
	lc := net.ListenConfig{Control: reusePort}
	for i := range cfg.Workers {
		pc, err := lc.ListenPacket(context.Background(), "udp", addr)
		if err != nil {
			b.closeConns()
			return nil, fmt.Errorf("beacon: listen %s: %w", addr, err)
		}
		conn := pc.(*net.UDPConn)
		_ = conn.SetReadBuffer(socketBuffer)
		_ = conn.SetWriteBuffer(socketBuffer)
		b.conns = append(b.conns, conn)
		if i == 0 {
			// Later workers bind the port the first one got (":0" picks one).
			b.addr = conn.LocalAddr().(*net.UDPAddr).AddrPort()
			addr = b.addr.String()
		}
	}
	if cfg.Registry != nil {
		if err := b.c.register(cfg.Registry, cfg.RelayID); err != nil {
			b.closeConns()
			return nil, fmt.Errorf("beacon: metrics: %w", err)
		}
	}
	return b, nil
}

// Addr is the bound UDP address.
func (b *Beacon) Addr() netip.AddrPort { return b.addr }

// Stats returns the counters.
func (b *Beacon) Stats() Stats { return b.c.snapshot() }

// Run answers probes until ctx ends, then closes the sockets. A Beacon runs
// once.
func (b *Beacon) Run(ctx context.Context) error {
	b.mu.Lock()
	if b.running || b.closed {
		b.mu.Unlock()
		return errors.New("beacon: already run")
	}
	b.running = true
	b.mu.Unlock()
	var wg sync.WaitGroup
	errs := make([]error, len(b.conns))
	for i, conn := range b.conns {
		wg.Add(1)
		go func() { defer wg.Done(); errs[i] = b.serve(conn) }()
	}
	<-ctx.Done()
	b.closeConns()
	wg.Wait()
	return errors.Join(errs...)
}

func (b *Beacon) closeConns() {
	b.mu.Lock()
	b.closed = true
	b.mu.Unlock()
	for _, c := range b.conns {
		_ = c.Close()
	}
}

// serve is one worker: read a batch, answer in place, write the answers.
func (b *Beacon) serve(conn *net.UDPConn) error {
	// A worker is a hot loop of system calls; its own thread keeps its
	// CPU time measurable and spares the scheduler handing it around.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	cpu0 := threadCPU()
	defer func() { b.c.cpu.Add(int64(threadCPU() - cpu0)) }()
	var bc batchConn = ipv4.NewPacketConn(conn)
	if b.addr.Addr().Is6() && !b.addr.Addr().Is4In6() {
		bc = ipv6.NewPacketConn(conn)
	}
	in := make([]ipv4.Message, BatchSize)
	out := make([]ipv4.Message, BatchSize)
	bufs := make([][]byte, BatchSize)
	for i := range in {
		bufs[i] = make([]byte, readBufferSize)
		in[i].Buffers = [][]byte{bufs[i]}
		out[i].Buffers = [][]byte{nil}
	}
	lim := newLimiter(b.cfg.PerSourceRate, b.cfg.MaxSources)
	relay, region := b.cfg.RelayID, b.cfg.RegionID
	for {
		n, err := bc.ReadBatch(in, 0)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return nil
			}
			b.cfg.Log.Warn("beacon read", "err", err)
			continue
		}
		now := time.Now()
		load := b.cfg.Load()
		var bytesIn, malformed, limited uint64
		k := 0
		for i := range n {
			m := &in[i]
			bytesIn += uint64(m.N)
			req, err := beacon.ParseRequest(bufs[i][:m.N])
			if err != nil {
				malformed++
				continue
			}
			src, ok := sourceOf(m.Addr)
			if !ok || !lim.allow(src, now) {
				limited++
				continue
			}
			size := beacon.PutReply(bufs[i], req, load, relay, region)
			out[k].Buffers[0] = bufs[i][:size]
			out[k].Addr = m.Addr
			k++
		}
		sent := b.write(bc, out[:k])
		b.c.packetsIn.Add(uint64(n))
		b.c.bytesIn.Add(bytesIn)
		b.c.malformed.Add(malformed)
		b.c.limited.Add(limited)
		b.c.replies.Add(uint64(sent))
		b.c.bytesOut.Add(uint64(sent) * beacon.PacketSize)
		b.c.sendErrors.Add(uint64(k - sent))
	}
}

// write sends ms, continuing past a refused datagram (e.g. an unreachable
// spoofed source) so one bad address does not drop its batch-mates.
func (b *Beacon) write(bc batchConn, ms []ipv4.Message) int {
	sent := 0
	for len(ms) > 0 {
		n, err := bc.WriteBatch(ms, 0)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return sent
			}
			n = max(n, 0) + 1 // skip the datagram the kernel refused
		} else {
			sent += n
		}
		ms = ms[min(n, len(ms)):]
	}
	return sent
}

func sourceOf(a net.Addr) (netip.Addr, bool) {
	ua, ok := a.(*net.UDPAddr)
	if !ok {
		return netip.Addr{}, false
	}
	ap := ua.AddrPort()
	return ap.Addr().Unmap(), ap.Addr().IsValid()
}
