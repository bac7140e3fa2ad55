// Package payments owns real-money top-ups: the gateway behind a small
// Provider interface, checkout, and exactly-once signed webhook processing.
package payments
