// Package telemetry owns the global core's telemetry sink: it consumes cells' telemetry batches from the federation stream, writes them exactly once in bulk into the time-partitioned event log, dead-letters what cannot be decoded, runs the anti-cheat rules that flag and suspend players, and expires old events.
package telemetry
