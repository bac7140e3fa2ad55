-- Anti-cheat rule counters: one row per player, rule and window, added to in
-- the same transaction that stores the events counted (so a redelivered
-- batch counts once). flagged marks a window that crossed its rule's
-- threshold; the audit log says so once.
CREATE TABLE IF NOT EXISTS anticheat_counters (
	player_id UUID NOT NULL,
	rule TEXT NOT NULL,
	window_start TIMESTAMPTZ NOT NULL,
	value BIGINT NOT NULL,
	flagged_at TIMESTAMPTZ,
	PRIMARY KEY (player_id, rule, window_start)
);
CREATE INDEX IF NOT EXISTS anticheat_counters_window_idx ON anticheat_counters (window_start);
