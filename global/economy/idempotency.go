package economy

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/atollgg/atoll/internal/httpx"
	"github.com/jackc/pgx/v5"
)

// MaxKeyLength bounds idempotency keys: a UUID or "match-id:player-id" fits
// several times over, and the key is part of a primary key.
const MaxKeyLength = 200

// IdempotencyHeader carries the client's idempotency key.
const IdempotencyHeader = "Idempotency-Key"

// Key namespaces in economy_requests: keys players send and keys servers
// send never collide, so a player cannot pre-empt a reward by guessing its key.
const (
	playerKeyPrefix = "p:"
	serverKeyPrefix = "g:"
)

// Request kinds, hashed with the body so one key cannot serve two kinds.
const (
	kindPurchase = "purchase"
	kindConsume  = "consume"
	kindGrant    = "grant"
	// KindCheckout is the kind of a top-up checkout, for the payments package.
	KindCheckout = "checkout"
)

// ValidKey reports whether k can be an idempotency key: 1-MaxKeyLength
// printable ASCII characters without spaces.
func ValidKey(k string) bool {
	if len(k) == 0 || len(k) > MaxKeyLength {
		return false
	}
	for i := 0; i < len(k); i++ {
		if k[i] < 0x21 || k[i] > 0x7e {
			return false
		}
	}
	return true
}

// RequestKey reads the required Idempotency-Key header.
func RequestKey(r *http.Request) (string, error) {
	k := r.Header.Get(IdempotencyHeader)
	if k == "" {
		return "", httpx.BadRequest("the %s header is required: a unique value per intended operation, reused on retries", IdempotencyHeader)
	}
	if !ValidKey(k) {
		return "", httpx.BadRequest("%s must be 1-%d printable ASCII characters without spaces", IdempotencyHeader, MaxKeyLength)
	}
	return k, nil
}

// RequestHash fingerprints a request's kind and parameters, so a key reused
// with a different request is refused. Each part is length-prefixed: no two
// different part lists hash alike.
func RequestHash(kind string, parts ...string) string {
	h := sha256.New()
	var n [8]byte
	for _, p := range append([]string{kind}, parts...) {
		binary.BigEndian.PutUint64(n[:], uint64(len(p)))
		h.Write(n[:])
		h.Write([]byte(p))
	}
	return hex.EncodeToString(h.Sum(nil))
}

// storedRequest is an economy_requests row.
type storedRequest struct {
	hash   string
	txID   *string
	result []byte
}

// lookupRequest returns the recorded request for (player, key), or nil.
func lookupRequest(ctx context.Context, q pgx.Tx, playerID, key string) (*storedRequest, error) {
	var r storedRequest
	err := q.QueryRow(ctx, `SELECT request_hash, transaction_id::TEXT, result FROM economy_requests WHERE player_id = $1 AND idem_key = $2`,
		playerID, key).Scan(&r.hash, &r.txID, &r.result)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read idempotency record: %w", err)
	}
	return &r, nil
}

// recordRequest stores the outcome of (player, key) in tx.
func recordRequest(ctx context.Context, tx pgx.Tx, playerID, key, hash string, txID *string, result any) error {
	var res any
	if result != nil {
		b, err := json.Marshal(result)
		if err != nil {
			return fmt.Errorf("encode idempotent result: %w", err)
		}
		res = string(b)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO economy_requests (player_id, idem_key, request_hash, transaction_id, result) VALUES ($1, $2, $3, $4, $5)`,
		playerID, key, hash, txID, res); err != nil {
		return fmt.Errorf("record idempotency key: %w", err)
	}
	return nil
}

// replayed is returned inside a transaction that found its key already
// used: the transaction rolls back and the caller serves the stored result.
type replayed struct{ req *storedRequest }

func (replayed) Error() string { return "idempotent replay" }

// isKeyRace reports whether err is a concurrent insert of the same key that
// the database reported as a unique violation rather than a serialization
// failure; the caller answers it with a fresh read.
func isKeyRace(err error) bool {
	return isUnique(err, "economy_requests_pkey")
}
