-- Federation: which cell events each consumer applied (the exactly-once
-- marker, written in the same transaction as the effect), and the outbox of
-- events the core publishes to every cell.
CREATE TABLE IF NOT EXISTS federation_applied (
	handler TEXT NOT NULL,
	cell_id TEXT NOT NULL,
	msg_id TEXT NOT NULL,
	applied_at TIMESTAMPTZ NOT NULL DEFAULT now(),
	PRIMARY KEY (handler, cell_id, msg_id)
);

CREATE TABLE IF NOT EXISTS federation_outbox (
	msg_id TEXT PRIMARY KEY,
	subject TEXT NOT NULL,
	data BYTEA NOT NULL,
	created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS federation_outbox_created ON federation_outbox (created_at);
