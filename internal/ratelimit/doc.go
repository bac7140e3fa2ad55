// Package ratelimit owns per-key rate limiting (GCRA token buckets under a bounded, sharded key table) for endpoints such as auth, per IP and per account.
package ratelimit
