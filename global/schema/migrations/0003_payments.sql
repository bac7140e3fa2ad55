-- Payments: real-money top-ups through a gateway. No card data is ever
-- stored; only the gateway's references.

-- payments has one row per checkout, keyed by its pending ledger row.
CREATE TABLE IF NOT EXISTS payments (
	id UUID PRIMARY KEY,
	player_id UUID NOT NULL,
	provider TEXT NOT NULL,
	offer_id TEXT NOT NULL,
	currency TEXT NOT NULL,
	amount BIGINT NOT NULL CHECK (amount > 0),
	price_amount BIGINT NOT NULL CHECK (price_amount >= 0),
	price_currency TEXT NOT NULL,
	checkout_ref TEXT NOT NULL,
	-- checkout_url is the hosted payment page, returned again on retries.
	checkout_url TEXT NOT NULL DEFAULT '',
	payment_ref TEXT,
	status TEXT NOT NULL CHECK (status IN ('pending', 'completed', 'failed', 'refunded', 'charged_back')),
	created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
	updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
	CONSTRAINT payments_checkout_key UNIQUE (provider, checkout_ref),
	CONSTRAINT payments_payment_key UNIQUE (provider, payment_ref)
);
CREATE INDEX IF NOT EXISTS payments_player_idx ON payments (player_id, created_at);

-- payment_events records every verified webhook event once: a replayed event
-- finds its row and changes nothing. A reversal that arrives before the
-- payment it reverses is kept as 'parked' and applied when the payment
-- completes.
CREATE TABLE IF NOT EXISTS payment_events (
	provider TEXT NOT NULL,
	event_id TEXT NOT NULL,
	type TEXT NOT NULL,
	checkout_ref TEXT NOT NULL DEFAULT '',
	payment_ref TEXT NOT NULL DEFAULT '',
	outcome TEXT NOT NULL,
	received_at TIMESTAMPTZ NOT NULL DEFAULT now(),
	PRIMARY KEY (provider, event_id)
);
CREATE INDEX IF NOT EXISTS payment_events_payment_idx ON payment_events (provider, payment_ref, outcome);
