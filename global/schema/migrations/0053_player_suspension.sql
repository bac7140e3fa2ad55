-- Suspended players cannot log in or refresh (identity answers 403
-- account_suspended); an operator lifts it through the admin API.
ALTER TABLE players ADD COLUMN IF NOT EXISTS suspended_at TIMESTAMPTZ, ADD COLUMN IF NOT EXISTS suspended_reason TEXT;
