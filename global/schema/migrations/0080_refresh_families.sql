-- Refresh-token families (global/identity/refreshtoken.go). A refresh token
-- is self-contained, so a login writes nothing here: a family gets its row
-- the first time one of its tokens is refreshed or logged out, and the row
-- then holds the generation of the family's only valid token. A token of an
-- older generation is a reuse and revokes the family. No foreign key on
-- player_id, for the same reason as refresh_tokens (0001): rows are only
-- written for an existing player, while that player's row is stamped.
-- refresh_tokens stays for the tokens issued before this migration: they
-- are no longer accepted (their holders log in again).
CREATE TABLE IF NOT EXISTS refresh_families (
	family_id UUID PRIMARY KEY,
	player_id UUID NOT NULL,
	generation INT8 NOT NULL,
	family_expires_at TIMESTAMPTZ NOT NULL,
	created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
	updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
	revoked_at TIMESTAMPTZ
);
CREATE INDEX IF NOT EXISTS refresh_families_player_idx ON refresh_families (player_id);
