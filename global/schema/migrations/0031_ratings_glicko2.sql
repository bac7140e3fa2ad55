-- Glicko-2: the rating deviation and volatility beside the rating. Existing
-- ratings keep their value and start as uncertain as a newcomer's. One
-- statement: CockroachDB runs a file's schema changes as one implicit
-- transaction, where one ALTER is the well-trodden path.
ALTER TABLE ratings
	ADD COLUMN IF NOT EXISTS rd DOUBLE PRECISION NOT NULL DEFAULT 350,
	ADD COLUMN IF NOT EXISTS volatility DOUBLE PRECISION NOT NULL DEFAULT 0.06;
