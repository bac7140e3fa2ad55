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

func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
