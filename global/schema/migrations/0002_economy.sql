-- Economy: item catalog, wallets, inventory, the ledger and idempotency records.
--
-- Only wallets reference players: every economy write first debits or creates
-- the player's wallet, so the player is known to exist. The hot tables
-- (inventory_items, transactions, economy_requests) skip the foreign-key
-- check, which would take a KEY SHARE lock on the player's row and on the
-- item template's row in every purchase and turn a popular item into a lock
-- hotspot. Item templates are never deleted, only deactivated.

CREATE TABLE IF NOT EXISTS item_templates (
	id TEXT PRIMARY KEY,
	name TEXT NOT NULL,
	category TEXT NOT NULL,
	-- prices maps a currency code to the unit price; {} means unpurchasable.
	prices JSONB NOT NULL DEFAULT '{}',
	stackable BOOL NOT NULL DEFAULT false,
	max_stack BIGINT NOT NULL DEFAULT 1,
	-- per_player_limit bounds how many a player may ever buy; NULL is unlimited.
	per_player_limit BIGINT,
	tradable BOOL NOT NULL DEFAULT false,
	sale_start TIMESTAMPTZ,
	sale_end TIMESTAMPTZ,
	-- attributes are copied to every new instance of a non-stackable item.
	attributes JSONB NOT NULL DEFAULT '{}',
	active BOOL NOT NULL DEFAULT true,
	updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- item_stock holds the remaining global supply of limited items; items
-- without a row are unlimited. Kept apart from item_templates, which is
-- read-mostly (GLOBAL on CockroachDB) and must not be written per purchase.
CREATE TABLE IF NOT EXISTS item_stock (
	item_template_id TEXT PRIMARY KEY REFERENCES item_templates (id),
	remaining BIGINT NOT NULL CHECK (remaining >= 0)
);

-- A wallet's balance never goes negative. A reversed top-up whose currency
-- was already spent records the shortfall as debt, which blocks spending
-- that currency and is paid off first by later credits. Invariant:
-- balance - debt = sum of the player's applied ledger amounts in currency.
CREATE TABLE IF NOT EXISTS wallets (
	player_id UUID NOT NULL REFERENCES players (id),
	currency TEXT NOT NULL,
	balance BIGINT NOT NULL DEFAULT 0 CHECK (balance >= 0),
	debt BIGINT NOT NULL DEFAULT 0 CHECK (debt >= 0),
	updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
	PRIMARY KEY (player_id, currency)
);

-- A stackable item has one row per player and template whose id is derived
-- from both, so concurrent grants upsert the same row.
CREATE TABLE IF NOT EXISTS inventory_items (
	id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
	player_id UUID NOT NULL,
	item_template_id TEXT NOT NULL,
	quantity BIGINT NOT NULL CHECK (quantity > 0),
	acquired_date TIMESTAMPTZ NOT NULL DEFAULT now(),
	is_equipped BOOL NOT NULL DEFAULT false,
	is_public BOOL NOT NULL DEFAULT false,
	attributes JSONB NOT NULL DEFAULT '{}'
);
CREATE INDEX IF NOT EXISTS inventory_items_player_idx ON inventory_items (player_id, acquired_date, id);

-- transactions is the ledger. A row is applied (moved money) when its status
-- is completed, or refunded (applied, then reversed by a later refund row);
-- pending and failed rows never moved money.
CREATE TABLE IF NOT EXISTS transactions (
	id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
	player_id UUID NOT NULL,
	item_id TEXT,
	quantity BIGINT NOT NULL DEFAULT 0,
	currency_type TEXT NOT NULL,
	amount BIGINT NOT NULL,
	-- Named, so both dialects report the same constraint: the purchase
	-- statement relies on this check to abort itself (see purchaseSQL).
	status TEXT NOT NULL CONSTRAINT transactions_status_check CHECK (status IN ('pending', 'completed', 'failed', 'refunded')),
	reason TEXT NOT NULL CONSTRAINT transactions_reason_check CHECK (reason IN ('purchase', 'reward', 'grant', 'refund', 'topup')),
	idempotency_key TEXT NOT NULL DEFAULT '',
	payment_gateway_ref TEXT,
	balance_after BIGINT,
	details JSONB NOT NULL DEFAULT '{}',
	-- clock_timestamp, not now(): rows written by one transaction (a
	-- starting balance and the purchase that created the wallet) list in
	-- the order they happened.
	created_at TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp(),
	updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS transactions_player_idx ON transactions (player_id, created_at, id);

-- economy_requests makes every economy call exactly-once: one row per
-- (player, caller key), written in the same transaction as the effect.
CREATE TABLE IF NOT EXISTS economy_requests (
	player_id UUID NOT NULL,
	idem_key TEXT NOT NULL,
	request_hash TEXT NOT NULL,
	transaction_id UUID,
	result JSONB,
	created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
	PRIMARY KEY (player_id, idem_key)
);
