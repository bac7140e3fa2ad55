package telemetry

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/atollgg/atoll/contract"
	"github.com/atollgg/atoll/internal/ratelimit"
)

// Benchmarks of one cell's ingest into its durable stream (file storage,
// acked publishes). Short run:
//
//	go test -run XXX -bench . -benchtime 3s ./cell/telemetry/
//
// events/s is the figure to compare with the 500,000 events/s target.

// benchEvents is a batch's events, typical analytics events (~150 bytes).
func benchEvents(n int, prefix string) []RequestEvent {
	evs := events(n, time.Now())
	for i := range evs {
		evs[i].EventID = fmt.Sprintf("%s-%d", prefix, i)
		evs[i].SessionID = "sess-1234"
	}
	return evs
}

// BenchmarkPublish measures the publish level: decoded batches of 1,000
// events encoded, published and acked, from 32 concurrent senders.
func BenchmarkPublish(b *testing.B) {
	g := newRig(b, nil)
	body := mustJSON(b, Request{Events: benchEvents(1000, "e")})
	batch, err := Decode(body, Sender{Kind: contract.SenderServer, ID: "srv", SessionID: "s"}, DefaultServerLimits(), time.Now())
	if err != nil {
		b.Fatal(err)
	}
	var seq atomic.Int64
	b.SetParallelism(16)
	b.ResetTimer()
	cpu := startCPU()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			bt := batch
			bt.BatchID = fmt.Sprintf("b%d", seq.Add(1))
			if _, err := g.ingest.Publish(context.Background(), bt); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N*1000)/b.Elapsed().Seconds(), "events/s")
	cpu.report(b, b.N*1000)
}

// BenchmarkDecode measures decoding and checking a server's 1,000-event
// batch, the CPU the HTTP level adds per event besides HTTP itself.
func BenchmarkDecode(b *testing.B) {
	body := mustJSON(b, Request{Events: benchEvents(1000, "e")})
	s := Sender{Kind: contract.SenderServer, ID: "srv", SessionID: "s"}
	b.SetBytes(int64(len(body)))
	cpu := startCPU()
	for b.Loop() {
		if _, err := Decode(body, s, DefaultServerLimits(), time.Now()); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*1000)/b.Elapsed().Seconds(), "events/s")
	cpu.report(b, b.N*1000)
}

// BenchmarkHTTP measures the HTTP level: players' batches of 100 events
// (the client limit) over loopback HTTP/1.1 keep-alive connections, each
// authenticated, rate-limited, decoded, published and answered 202 after
// the stream's ack.
func BenchmarkHTTP(b *testing.B) {
	g := newRig(b, func(c *Config) {
		c.Client = DefaultClientLimits()
		c.Client.Rate = ratelimit.Off // one benchmark player per goroutine would trip it
	})
	const perBatch = 100
	var seq atomic.Int64
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256}}
	b.SetParallelism(32)
	b.ResetTimer()
	cpu := startCPU()
	b.RunParallel(func(pb *testing.PB) {
		player := fmt.Sprintf("%08d-0000-4000-8000-000000000000", seq.Add(1))
		tok := g.token(b, player)
		// No batch id: the cell generates one, so one body serves every
		// request and the client's own JSON stays out of the profile.
		body := mustJSON(b, Request{Events: benchEvents(perBatch, player)})
		for pb.Next() {
			req, _ := http.NewRequest(http.MethodPost, g.srv.URL+Path, bytes.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+tok)
			resp, err := client.Do(req)
			if err != nil {
				b.Error(err)
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusAccepted {
				b.Errorf("status %d", resp.StatusCode)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N*perBatch)/b.Elapsed().Seconds(), "events/s")
	cpu.report(b, b.N*perBatch)
}

// cpuClock reads the process's CPU time (user and system, every thread:
// the embedded NATS server and the HTTP client included). The machine is
// shared, so events per CPU-second is the figure that does not depend on
// what else runs; events/s is the wall-clock one.
type cpuClock struct{ start time.Duration }

func startCPU() cpuClock { return cpuClock{start: processCPU()} }

func (c cpuClock) report(b *testing.B, events int) {
	if used := processCPU() - c.start; used > 0 {
		b.ReportMetric(float64(events)/used.Seconds(), "events/cpu-s")
	}
}

func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkHTTPServer measures the HTTP level for game servers: batches of
// 1,000 events (the server limit) with the server credential.
func BenchmarkHTTPServer(b *testing.B) {
	g := newRig(b, func(c *Config) {
		c.Server = DefaultServerLimits()
		c.Server.Rate = ratelimit.Off // one server sends everything here
	})
	const perBatch = 1000
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256}}
	body := mustJSON(b, Request{Events: benchEvents(perBatch, "e")})
	b.SetParallelism(8)
	b.ResetTimer()
	cpu := startCPU()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req, _ := http.NewRequest(http.MethodPost, g.srv.URL+Path, bytes.NewReader(body))
			for k, v := range serverHeaders(testSecret) {
				req.Header.Set(k, v)
			}
			resp, err := client.Do(req)
			if err != nil {
				b.Error(err)
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusAccepted {
				b.Errorf("status %d", resp.StatusCode)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N*perBatch)/b.Elapsed().Seconds(), "events/s")
	cpu.report(b, b.N*perBatch)
}
