-- Match history: one row per finished match (the cell's session), one per
-- player who took part, written by the match.completed applier together
-- with the player's xp, rewards and rating change.
CREATE TABLE IF NOT EXISTS matches (
	id UUID PRIMARY KEY,
	cell_id TEXT NOT NULL,
	region TEXT NOT NULL DEFAULT '',
	mode TEXT NOT NULL,
	started_at TIMESTAMPTZ NOT NULL,
	ended_at TIMESTAMPTZ NOT NULL,
	players INT NOT NULL,
	teams INT NOT NULL,
	applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- The primary key is the applier's idempotency key per (match, player).
-- ended_at is copied from matches so a player's history pages off one index.
CREATE TABLE IF NOT EXISTS match_participants (
	match_id UUID NOT NULL REFERENCES matches (id),
	player_id UUID NOT NULL REFERENCES players (id),
	ended_at TIMESTAMPTZ NOT NULL,
	team INT NOT NULL,
	placement INT NOT NULL,
	outcome TEXT NOT NULL,
	score INT NOT NULL DEFAULT 0,
	kills INT NOT NULL DEFAULT 0,
	deaths INT NOT NULL DEFAULT 0,
	time_played_s DOUBLE PRECISION NOT NULL DEFAULT 0,
	xp BIGINT NOT NULL DEFAULT 0,
	level_after INT,
	rewards JSONB NOT NULL DEFAULT '{}',
	rating_before DOUBLE PRECISION,
	rating_after DOUBLE PRECISION,
	rd_after DOUBLE PRECISION,
	PRIMARY KEY (match_id, player_id)
);
CREATE INDEX IF NOT EXISTS match_participants_player_idx ON match_participants (player_id, ended_at, match_id);
