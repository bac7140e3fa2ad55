-- Partial refunds and won disputes: how much of a payment the gateway has
-- refunded (in the price's minor units, cumulative as Stripe reports it),
-- how much currency was taken back in all, and how much of that a dispute
-- took (given back if the player wins it).
ALTER TABLE payments ADD COLUMN IF NOT EXISTS refunded_price BIGINT NOT NULL DEFAULT 0;
ALTER TABLE payments ADD COLUMN IF NOT EXISTS reversed_amount BIGINT NOT NULL DEFAULT 0;
ALTER TABLE payments ADD COLUMN IF NOT EXISTS disputed_amount BIGINT NOT NULL DEFAULT 0;

-- payment_refunds_due lists money taken that cannot be credited, e.g. a
-- payment completing after its player erased their account: the operator
-- refunds it at the gateway.
CREATE TABLE IF NOT EXISTS payment_refunds_due (
	payment_id UUID PRIMARY KEY,
	provider TEXT NOT NULL,
	payment_ref TEXT NOT NULL DEFAULT '',
	price_amount BIGINT NOT NULL,
	price_currency TEXT NOT NULL,
	reason TEXT NOT NULL,
	created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
