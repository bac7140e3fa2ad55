// Package beacon owns the relay's UDP ping beacon: it answers
// contract/beacon probes in batches, never with more bytes than it received,
// under per-source rate limits, counting what it drops.
package beacon
