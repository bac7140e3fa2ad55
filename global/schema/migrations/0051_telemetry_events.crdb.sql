-- The telemetry event log on CockroachDB: one table whose primary key starts
-- with the timestamp, hash-sharded so day-ordered inserts spread over every
-- range instead of hammering the last one. Retention deletes expired rows in
-- bounded chunks (CockroachDB has no declarative partition drop).
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
	PRIMARY KEY (ts, event_id) USING HASH
);
