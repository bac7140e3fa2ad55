CREATE TABLE IF NOT EXISTS players (
	id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
	username TEXT NOT NULL,
	username_norm TEXT NOT NULL,
	display_name TEXT NOT NULL DEFAULT '',
	email_enc TEXT,
	email_idx TEXT,
	password_hash TEXT,
	auth_provider_id TEXT NOT NULL,
	player_level INT NOT NULL DEFAULT 1,
	xp BIGINT NOT NULL DEFAULT 0,
	profile_public BOOL NOT NULL DEFAULT true,
	last_login TIMESTAMPTZ,
	created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
	deleted_at TIMESTAMPTZ,
	CONSTRAINT players_username_key UNIQUE (username_norm),
	CONSTRAINT players_email_key UNIQUE (email_idx)
);

CREATE TABLE IF NOT EXISTS devices (
	device_hash TEXT PRIMARY KEY,
	player_id UUID NOT NULL REFERENCES players (id),
	created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS devices_player_idx ON devices (player_id);

CREATE TABLE IF NOT EXISTS identities (
	issuer TEXT NOT NULL,
	subject TEXT NOT NULL,
	player_id UUID NOT NULL REFERENCES players (id),
	created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
	PRIMARY KEY (issuer, subject)
);
CREATE INDEX IF NOT EXISTS identities_player_idx ON identities (player_id);

-- No foreign key on player_id: every login inserts here while stamping the
-- player's row, and the FK check's row lock on that same row costs a
-- multixact per login. Rows are only ever written for an existing player.
CREATE TABLE IF NOT EXISTS refresh_tokens (
	token_hash TEXT PRIMARY KEY,
	family_id UUID NOT NULL,
	player_id UUID NOT NULL,
	issued_at TIMESTAMPTZ NOT NULL DEFAULT now(),
	expires_at TIMESTAMPTZ NOT NULL,
	family_expires_at TIMESTAMPTZ NOT NULL,
	used_at TIMESTAMPTZ,
	revoked_at TIMESTAMPTZ
);
CREATE INDEX IF NOT EXISTS refresh_tokens_family_idx ON refresh_tokens (family_id);
CREATE INDEX IF NOT EXISTS refresh_tokens_player_idx ON refresh_tokens (player_id);

CREATE TABLE IF NOT EXISTS audit_log (
	id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
	at TIMESTAMPTZ NOT NULL DEFAULT now(),
	kind TEXT NOT NULL,
	player_id UUID,
	actor TEXT NOT NULL DEFAULT '',
	details JSONB NOT NULL DEFAULT '{}'
);
CREATE INDEX IF NOT EXISTS audit_log_player_idx ON audit_log (player_id, at);
CREATE INDEX IF NOT EXISTS audit_log_kind_idx ON audit_log (kind, at);
