-- The telemetry event log (global/telemetry's sink), partitioned by day on
-- PostgreSQL: the sink creates each day's partition before writing into it,
-- and retention drops whole partitions (no vacuum debt from mass deletes).
-- The primary key must hold the partition key; an event's timestamp never
-- changes between redeliveries, so (ts, event_id) dedupes as event_id would.
CREATE TABLE IF NOT EXISTS telemetry_events (
	ts TIMESTAMPTZ NOT NULL,
	event_id UUID NOT NULL,
	cell_id TEXT NOT NULL,
	sender TEXT NOT NULL,
	sender_id TEXT NOT NULL,
	player_id TEXT NOT NULL DEFAULT '',
	session_id TEXT NOT NULL DEFAULT '',
	event_type TEXT NOT NULL,
	payload JSONB,
	received_at TIMESTAMPTZ NOT NULL,
	PRIMARY KEY (ts, event_id)
) PARTITION BY RANGE (ts);
