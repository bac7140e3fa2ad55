package telemetry_test

import (
	"context"
	"syscall"
	"testing"
	"time"

	"github.com/atollgg/atoll/contract"
	"github.com/atollgg/atoll/global/telemetry"
)

// BenchmarkSink measures the sink from the stream into PostgreSQL: batches
// of 1,000 client events already on the stream, drained by one sink (COPY
// into staging, INSERT ... ON CONFLICT, ack). Short run:
//
//	go test -run XXX -bench Sink -benchtime 20x ./global/telemetry/
//
// events/s is the figure to compare with the 100,000 events/s target;
// events/cpu-s counts this process's CPU only (PostgreSQL's is not in it).
func BenchmarkSink(b *testing.B) {
	d := openDB(b)
	r := newStream(b)
	const batches, perBatch = 20, 1000
	now := time.Now().UTC()
	var total time.Duration
	var cpu time.Duration
	for i := 0; b.Loop(); i++ {
		for range batches {
			bt := batch(contract.SenderClient, "00000000-0000-4000-8000-000000000001", perBatch, now)
			r.publish(b, testCell, encode(b, bt), bt.BatchID)
		}
		s := newSink(b, d, r, "bench", nil)
		start, startCPU := time.Now(), processCPU()
		ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
		if err := s.Drain(ctx); err != nil {
			b.Fatal(err)
		}
		cancel()
		total += time.Since(start)
		cpu += processCPU() - startCPU
	}
	events := float64(b.N * batches * perBatch)
	b.ReportMetric(events/total.Seconds(), "events/s")
	b.ReportMetric(events/cpu.Seconds(), "events/cpu-s")
	if n := count(b, d, `SELECT count(*) FROM telemetry_events`); n != int(events) {
		b.Fatalf("%d rows, want %d", n, int(events))
	}
	_ = telemetry.DefaultMaxTxEvents
}

// BenchmarkSinkRun is BenchmarkSink through Run with its default two
// workers, the way the core runs it:
//
//	go test -run XXX -bench SinkRun -benchtime 10x ./global/telemetry/
func BenchmarkSinkRun(b *testing.B) {
	d := openDB(b)
	r := newStream(b)
	const batches, perBatch = 20, 1000
	now := time.Now().UTC()
	var total, cpu time.Duration
	published := uint64(0)
	for i := 0; b.Loop(); i++ {
		for range batches {
			bt := batch(contract.SenderClient, "00000000-0000-4000-8000-000000000001", perBatch, now)
			r.publish(b, testCell, encode(b, bt), bt.BatchID)
		}
		published += batches
		s := newSink(b, d, r, "bench-run", nil)
		ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
		runCtx, stop := context.WithCancel(ctx)
		start, startCPU := time.Now(), processCPU()
		done := make(chan error, 1)
		go func() { done <- s.Run(runCtx) }() // owned by this iteration: ends with stop
		for {
			cons, err := r.js.Consumer(ctx, contract.CellEventsStream, "bench-run")
			if err == nil {
				if info, err := cons.Info(ctx); err == nil && info.AckFloor.Stream >= published {
					break
				}
			}
			select {
			case <-ctx.Done():
				b.Fatal("the sink never caught up")
			case <-time.After(5 * time.Millisecond):
			}
		}
		total += time.Since(start)
		cpu += processCPU() - startCPU
		stop()
		if err := <-done; err != nil {
			b.Fatal(err)
		}
		cancel()
	}
	events := float64(b.N * batches * perBatch)
	b.ReportMetric(events/total.Seconds(), "events/s")
	b.ReportMetric(events/cpu.Seconds(), "events/cpu-s")
}

func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
