-- Global leaderboards: one row per (board, season, player). updated_at is the
-- time the score was reached (a match's end) and orders ties; written_at is
-- when the row was last written, so other replicas of the core catch up.
CREATE TABLE IF NOT EXISTS leaderboard_scores (
	leaderboard TEXT NOT NULL,
	season TEXT NOT NULL,
	player_id UUID NOT NULL,
	score BIGINT NOT NULL,
	updated_at TIMESTAMPTZ NOT NULL,
	written_at TIMESTAMPTZ NOT NULL DEFAULT now(),
	PRIMARY KEY (leaderboard, season, player_id)
);
CREATE INDEX IF NOT EXISTS leaderboard_scores_player ON leaderboard_scores (player_id);
CREATE INDEX IF NOT EXISTS leaderboard_scores_written ON leaderboard_scores (written_at);

-- One row per match result applied to a board: a redelivered event or a
-- retried transaction finds its row and changes nothing.
CREATE TABLE IF NOT EXISTS leaderboard_applied (
	session_id TEXT NOT NULL,
	leaderboard TEXT NOT NULL,
	player_id UUID NOT NULL,
	applied_at TIMESTAMPTZ NOT NULL DEFAULT now(),
	PRIMARY KEY (session_id, leaderboard, player_id)
);
CREATE INDEX IF NOT EXISTS leaderboard_applied_player ON leaderboard_applied (player_id);
CREATE INDEX IF NOT EXISTS leaderboard_applied_at ON leaderboard_applied (applied_at);
