// Package keyset owns the opaque cursors of keyset pagination over listings
// ordered by (time, id), newest first: the ledger, the inventory and the
// match history hand them out and take them back.
package keyset

import (
	"encoding/base64"
	"strconv"
	"strings"
	"time"

	"github.com/atollgg/atoll/internal/httpx"
	"github.com/google/uuid"
)

// MaxCursorLength bounds what Decode reads: the base64 of a microsecond
// timestamp and a UUID is 70 bytes, so anything much longer is not a cursor.
const MaxCursorLength = 128

// Encode makes an opaque, URL-safe cursor of the row at (at, id); id is a
// UUID in its canonical form.
func Encode(at time.Time, id string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(at.UnixMicro(), 10) + "." + id))
}

// Decode parses a cursor a client sent back: a time (UTC, microseconds) and
// a canonical UUID. Anything Encode did not make is a 400 envelope.
func Decode(s string) (time.Time, string, error) {
	bad := httpx.BadRequest("cursor is not one this API returned")
	if len(s) > MaxCursorLength {
		return time.Time{}, "", bad
	}
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return time.Time{}, "", bad
	}
	ts, id, ok := strings.Cut(string(raw), ".")
	if !ok {
		return time.Time{}, "", bad
	}
	us, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || us < 0 {
		return time.Time{}, "", bad
	}
	// Only the canonical 36-character form: uuid.Parse also takes braces,
	// urn: prefixes and no hyphens, none of which Encode makes.
	u, err := uuid.Parse(id)
	if err != nil || len(id) != 36 {
		return time.Time{}, "", bad
	}
	return time.UnixMicro(us).UTC(), u.String(), nil
}
