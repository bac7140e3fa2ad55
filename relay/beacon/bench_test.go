package beacon

import (
	"context"
	"errors"
	"net"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/atollgg/atoll/contract/beacon"
	"golang.org/x/net/ipv4"
)

// benchInFlight is how many requests the load generator keeps outstanding:
// enough to keep the beacon's batches full without overflowing socket
// buffers on loopback.
const benchInFlight = 1024

// benchLossTimeout is how long the generator's reader waits before taking
// the requests in flight as lost (a full socket buffer drops them).
const benchLossTimeout = 100 * time.Millisecond

func drain(c chan struct{}) {
	for {
		select {
		case <-c:
		default:
			return
		}
	}
}

// BenchmarkBeacon measures replies per second of one beacon worker (one
// core's worth): a batching generator keeps benchInFlight requests in
// flight over loopback and counts replies. Run the full figure with
//
//	go test -run '^$' -bench BenchmarkBeacon -benchtime 2000000x ./relay/beacon/
func BenchmarkBeacon(b *testing.B) {
	bc, stop := runBeacon(b, Config{Addr: "127.0.0.1:0", RelayID: "r", RegionID: "g", Workers: 1, PerSourceRate: 1 << 30})
	conn := dial(b, bc, "")
	_ = conn.SetReadBuffer(socketBuffer)
	_ = conn.SetWriteBuffer(socketBuffer)
	pc := ipv4.NewPacketConn(conn)
	req := beacon.AppendRequest(nil, beacon.Request{Nonce: 1})
	out := make([]ipv4.Message, BatchSize)
	for i := range out {
		out[i].Buffers = [][]byte{req}
	}
	var received atomic.Int64
	// credits holds one token per request in flight: the sender blocks on
	// it instead of spinning, the reader returns tokens per reply.
	credits := make(chan struct{}, benchInFlight)
	done := make(chan struct{})
	go func() { // the reader, owned by this benchmark; ends when the conn closes
		defer close(done)
		in := make([]ipv4.Message, BatchSize)
		for i := range in {
			in[i].Buffers = [][]byte{make([]byte, 512)}
		}
		for {
			_ = conn.SetReadDeadline(time.Now().Add(benchLossTimeout))
			n, err := pc.ReadBatch(in, 0)
			if err != nil {
				var ne net.Error
				if errors.As(err, &ne) && ne.Timeout() {
					drain(credits) // lost datagrams: forget them
					continue
				}
				return
			}
			received.Add(int64(n))
			for range n {
				select {
				case <-credits:
				default:
				}
			}
		}
	}()
	b.ResetTimer()
	start := time.Now()
	cpu0 := cpuTime()
	for received.Load() < int64(b.N) {
		k := 0
		credits <- struct{}{} // blocks while benchInFlight are out
		k++
		for k < BatchSize {
			select {
			case credits <- struct{}{}:
				k++
				continue
			default:
			}
			break
		}
		if _, err := pc.WriteBatch(out[:k], 0); err != nil {
			b.Fatal(err)
		}
	}
	elapsed := time.Since(start)
	cpu := cpuTime() - cpu0
	b.StopTimer()
	conn.Close()
	<-done
	stop()
	b.ReportMetric(float64(received.Load())/elapsed.Seconds(), "replies/s")
	// On a shared machine wall time measures the neighbours; replies per
	// CPU-second of this whole process (beacon AND load generator) is a
	// lower bound of what one core of beacon answers.
	b.ReportMetric(float64(received.Load())/cpu.Seconds(), "replies/cpu-s")
	if st := bc.Stats(); st.WorkerCPU > 0 {
		b.ReportMetric(float64(st.Replies)/st.WorkerCPU.Seconds(), "replies/worker-cpu-s")
	}
}

// cpuTime is the user+system CPU time of this process so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// runBeacon starts a beacon; stop ends its Run and waits for it.
func runBeacon(b *testing.B, cfg Config) (*Beacon, func()) {
	bc, err := New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- bc.Run(ctx) }()
	stopped := false
	stop := func() {
		if !stopped {
			stopped = true
			cancel()
			if err := <-done; err != nil {
				b.Error(err)
			}
		}
	}
	b.Cleanup(stop)
	return bc, stop
}
