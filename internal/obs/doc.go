// Package obs owns the observability baseline every Atoll service exposes:
// JSON logs, Prometheus metrics and the /healthz and /readyz probes.
package obs
