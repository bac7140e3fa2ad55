// Package httpx owns Atoll's HTTP conventions: the JSON error envelope, strict
// bounded request decoding, middleware and graceful serving.
package httpx
