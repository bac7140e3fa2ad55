package economy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"

	"github.com/atollgg/atoll/global/audit"
	"github.com/jackc/pgx/v5"
)

// maxBatchGrants bounds one GrantBatch: a full lobby's rewards (the
// game-server SDK's 256 players), so each statement's arrays stay small.
const maxBatchGrants = 256

// errBatchShape is returned for a batch GrantBatch cannot apply; callers
// grant one by one instead.
var errBatchShape = errors.New("grant batch: one grant per player, credits and xp only")

// GrantBatch applies several players' grants in tx with the same effects,
// ledger rows, idempotency records and audit entries as Grant applied to
// each in turn, but in a fixed number of statements rather than several per
// player: a finished match rewards its whole lobby at once.
//
// Each request must name a different player and carry only positive
// currency amounts and xp (no items, no debits). A request whose key was
// already used for the same grant answers its first result (Replayed);
// one whose key was used for a different grant fails the whole batch with
// ErrKeyReused before anything is written, so the caller can fall back to
// Grant per player in the same transaction.
func (s *Service) GrantBatch(ctx context.Context, tx pgx.Tx, reqs []GrantRequest) ([]*GrantResult, error) {
	if len(reqs) > maxBatchGrants {
		return nil, fmt.Errorf("grant batch: at most %d grants", maxBatchGrants)
	}
	reqs = append([]GrantRequest(nil), reqs...)
	seen := map[string]bool{}
	for i := range reqs {
		r := &reqs[i]
		if err := s.validateGrant(ctx, r); err != nil {
			return nil, err
		}
		if seen[r.PlayerID] || len(r.Items) > 0 {
			return nil, errBatchShape
		}
		for _, amt := range r.Currencies {
			if amt <= 0 {
				return nil, errBatchShape
			}
		}
		seen[r.PlayerID] = true
	}
	out := make([]*GrantResult, len(reqs))
	if len(reqs) == 0 {
		return out, nil
	}

	// Replays: the same lookup grantTx does, for every player at once.
	players, keys, hashes := make([]string, len(reqs)), make([]string, len(reqs)), make([]string, len(reqs))
	for i := range reqs {
		players[i], keys[i], hashes[i] = reqs[i].PlayerID, serverKeyPrefix+reqs[i].Key, reqs[i].hash()
	}
	rows, err := tx.Query(ctx, `SELECT r.player_id::TEXT, r.request_hash, r.result FROM economy_requests AS r
		JOIN unnest($1::UUID[], $2::TEXT[]) AS k (player_id, idem_key) ON r.player_id = k.player_id AND r.idem_key = k.idem_key`, players, keys)
	if err != nil {
		return nil, fmt.Errorf("read idempotency records: %w", err)
	}
	prev := map[string]storedRequest{}
	for rows.Next() {
		var pid string
		var r storedRequest
		if err := rows.Scan(&pid, &r.hash, &r.result); err != nil {
			rows.Close()
			return nil, fmt.Errorf("read idempotency records: %w", err)
		}
		prev[pid] = r
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read idempotency records: %w", err)
	}
	var todo []int
	for i, r := range reqs {
		p, ok := prev[r.PlayerID]
		if !ok {
			todo = append(todo, i)
			continue
		}
		if p.hash != hashes[i] || p.result == nil {
			return nil, fmt.Errorf("grant for player %s: %w", r.PlayerID, ErrKeyReused)
		}
		var res GrantResult
		if err := json.Unmarshal(p.result, &res); err != nil {
			return nil, fmt.Errorf("replay grant: %w", err)
		}
		res.Replayed = true
		out[i] = &res
	}
	if len(todo) == 0 {
		return out, nil
	}

	fresh := make([]string, len(todo))
	for j, i := range todo {
		fresh[j] = reqs[i].PlayerID
		out[i] = &GrantResult{PlayerID: reqs[i].PlayerID, Key: reqs[i].Key, Transactions: []Applied{}, Items: []GrantedItem{}}
	}
	if err := s.ensureWalletsBatch(ctx, tx, fresh); err != nil {
		return nil, err
	}
	if err := s.creditBatch(ctx, tx, reqs, todo, out); err != nil {
		return nil, err
	}
	if err := s.addXPBatch(ctx, tx, reqs, todo, out); err != nil {
		return nil, err
	}
	recPlayers, recKeys, recHashes, recResults := make([]string, len(todo)), make([]string, len(todo)), make([]string, len(todo)), make([]string, len(todo))
	events := make([]audit.Event, len(todo))
	for j, i := range todo {
		r := &reqs[i]
		b, err := json.Marshal(out[i])
		if err != nil {
			return nil, fmt.Errorf("encode idempotent result: %w", err)
		}
		recPlayers[j], recKeys[j], recHashes[j], recResults[j] = r.PlayerID, keys[i], hashes[i], string(b)
		events[j] = audit.Event{Kind: audit.EconomyGrant, PlayerID: r.PlayerID, Actor: r.Actor, Details: map[string]any{
			"idempotency_key": r.Key, "reason": r.Reason, "currencies": r.Currencies, "items": r.Items, "xp": r.XP, "note": r.Note,
		}}
	}
	if _, err := tx.Exec(ctx, `INSERT INTO economy_requests (player_id, idem_key, request_hash, result)
		SELECT r.player_id, r.idem_key, r.request_hash, r.result::JSONB FROM unnest($1::UUID[], $2::TEXT[], $3::TEXT[], $4::TEXT[]) AS r (player_id, idem_key, request_hash, result)`,
		recPlayers, recKeys, recHashes, recResults); err != nil {
		return nil, fmt.Errorf("record idempotency keys: %w", err)
	}
	if err := audit.WriteMany(ctx, tx, events); err != nil {
		return nil, err
	}
	return out, nil
}

// ensureWalletsBatch is ensureWallets for several players; it fails with
// ErrUnknownPlayer if any does not exist or was erased.
func (s *Service) ensureWalletsBatch(ctx context.Context, tx pgx.Tx, players []string) error {
	var found int
	err := tx.QueryRow(ctx, `
		WITH p AS (SELECT id FROM players WHERE id = ANY($1::UUID[]) AND deleted_at IS NULL),
		ins AS (
			INSERT INTO wallets (player_id, currency, balance)
			SELECT p.id, c.code, c.start FROM p, unnest($2::TEXT[], $3::BIGINT[]) AS c (code, start)
			ON CONFLICT (player_id, currency) DO NOTHING
			RETURNING player_id, currency, balance
		), led AS (
			INSERT INTO transactions (player_id, currency_type, amount, status, reason, idempotency_key, balance_after, details)
			SELECT ins.player_id, ins.currency, ins.balance, 'completed', 'grant', $4, ins.balance, '{"note":"starting balance"}'
			FROM ins WHERE ins.balance <> 0
		)
		SELECT count(*) FROM p`,
		players, s.currencies.codes, s.currencies.start, startingBalanceKey).Scan(&found)
	if err != nil {
		return fmt.Errorf("create wallets: %w", err)
	}
	if found != len(players) {
		return ErrUnknownPlayer
	}
	return nil
}

// creditBatch applies every positive currency line of reqs[todo] with its
// ledger row, as apply does for a credit: it pays off debt first.
func (s *Service) creditBatch(ctx context.Context, tx pgx.Tx, reqs []GrantRequest, todo []int, out []*GrantResult) error {
	var players, currencies, reasons, keys, details []string
	var amounts []int64
	var owner []int
	for _, i := range todo {
		r := &reqs[i]
		d, err := json.Marshal(map[string]string{"note": r.Note, "actor": r.Actor})
		if err != nil {
			return fmt.Errorf("encode grant details: %w", err)
		}
		codes := make([]string, 0, len(r.Currencies))
		for c := range r.Currencies {
			codes = append(codes, c)
		}
		sort.Strings(codes)
		for _, c := range codes {
			players, currencies, amounts = append(players, r.PlayerID), append(currencies, c), append(amounts, r.Currencies[c])
			reasons, keys, details = append(reasons, r.Reason), append(keys, r.Key), append(details, string(d))
			owner = append(owner, i)
		}
	}
	if len(players) == 0 {
		return nil
	}
	// Each (player, currency) appears once: one grant per player, one line
	// per currency. ord keeps the answers in input order.
	rows, err := tx.Query(ctx, `
		WITH e AS (
			SELECT * FROM unnest($1::UUID[], $2::TEXT[], $3::BIGINT[], $4::TEXT[], $5::TEXT[], $6::TEXT[]) WITH ORDINALITY
				AS e (player_id, currency, amount, reason, idem_key, details, ord)
		), w AS (
			UPDATE wallets SET
				balance = wallets.balance + GREATEST(e.amount - wallets.debt, 0),
				debt = GREATEST(wallets.debt - e.amount, 0),
				updated_at = now()
			FROM e WHERE wallets.player_id = e.player_id AND wallets.currency = e.currency
			RETURNING e.ord, wallets.balance, wallets.debt
		), led AS (
			INSERT INTO transactions (player_id, quantity, currency_type, amount, status, reason, idempotency_key, balance_after, details)
			SELECT e.player_id, 0, e.currency, e.amount, 'completed', e.reason, e.idem_key, w.balance, e.details::JSONB
			FROM e JOIN w ON w.ord = e.ord
			RETURNING id, player_id, currency_type
		)
		SELECT w.ord, led.id::TEXT, w.balance, w.debt FROM w JOIN e ON e.ord = w.ord
			JOIN led ON led.player_id = e.player_id AND led.currency_type = e.currency
		ORDER BY w.ord`,
		players, currencies, amounts, reasons, keys, details)
	if err != nil {
		return fmt.Errorf("credit grants: %w", err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var ord int
		var a Applied
		if err := rows.Scan(&ord, &a.TransactionID, &a.Balance, &a.Debt); err != nil {
			return fmt.Errorf("credit grants: %w", err)
		}
		k := ord - 1
		a.Currency, a.Amount = currencies[k], amounts[k]
		res := out[owner[k]]
		res.Transactions = append(res.Transactions, a)
		n++
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("credit grants: %w", err)
	}
	if n != len(players) {
		return fmt.Errorf("credit grants: %d of %d wallets updated", n, len(players))
	}
	return nil
}

// addXPBatch is addXP for every request of reqs[todo] with xp.
func (s *Service) addXPBatch(ctx context.Context, tx pgx.Tx, reqs []GrantRequest, todo []int, out []*GrantResult) error {
	var players []string
	var xps []int64
	idx := map[string]int{}
	for _, i := range todo {
		if reqs[i].XP > 0 {
			players, xps = append(players, reqs[i].PlayerID), append(xps, reqs[i].XP)
			idx[reqs[i].PlayerID] = i
		}
	}
	if len(players) == 0 {
		return nil
	}
	rows, err := tx.Query(ctx, `
		UPDATE players SET xp = players.xp + e.xp,
			player_level = GREATEST(players.player_level, 1 + (SELECT count(*) FROM unnest($3::BIGINT[]) AS t (x) WHERE t.x <= players.xp + e.xp))
		FROM (SELECT u.id, u.xp, p.player_level AS before FROM unnest($1::UUID[], $2::BIGINT[]) AS u (id, xp)
			JOIN players AS p ON p.id = u.id) AS e
		WHERE players.id = e.id AND players.deleted_at IS NULL
		RETURNING players.id::TEXT, players.xp, players.player_level, e.before`, players, xps, s.levels.thresholds)
	if err != nil {
		return fmt.Errorf("add xp: %w", err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var id string
		var p Progress
		var before int
		if err := rows.Scan(&id, &p.XP, &p.Level, &before); err != nil {
			return fmt.Errorf("add xp: %w", err)
		}
		p.LeveledUp = p.Level > before
		out[idx[id]].Progress = &p
		n++
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("add xp: %w", err)
	}
	if n != len(players) {
		return ErrUnknownPlayer
	}
	return nil
}
