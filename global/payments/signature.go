package payments

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// SignatureHeader is the header carrying a webhook's signatures, in
// Stripe's scheme: "t=<unix seconds>,v1=<hex hmac>,v1=<hex hmac>".
const SignatureHeader = "Stripe-Signature"

// Signature limits.
const (
	// DefaultTolerance is how far a signed timestamp may be from our clock:
	// Stripe's own default. It bounds how long a captured delivery can be
	// replayed, and tolerates ordinary clock skew.
	DefaultTolerance = 5 * time.Minute
	// maxSignatureHeader bounds what the parser reads: a timestamp and a
	// few 64-character signatures (one per active secret during rotation).
	maxSignatureHeader = 2048
	// maxSignatures bounds the v1 entries compared per delivery.
	maxSignatures = 8
)

// Signature errors. None says which part of a valid-looking header was wrong
// beyond what an honest sender needs to fix its configuration.
var (
	ErrNoSignature      = errors.New("missing " + SignatureHeader + " header")
	ErrMalformedHeader  = errors.New("malformed " + SignatureHeader + " header")
	ErrBadSignature     = errors.New("no signature matches the payload")
	ErrTimestampSkewed  = errors.New("signature timestamp outside the tolerance")
	errNoWebhookSecrets = errors.New("no webhook secret configured")
)

// SignedHeader is a parsed signature header.
type SignedHeader struct {
	// Timestamp is the signing time, in Unix seconds.
	Timestamp int64
	// V1 are the HMAC-SHA256 signatures; other schemes are ignored.
	V1 [][]byte
}

// ParseSignatureHeader reads "t=...,v1=...[,v1=...]". Unknown keys (such as
// Stripe's test-mode v0) are skipped; exactly one t and at least one
// well-formed v1 are required.
func ParseSignatureHeader(h string) (SignedHeader, error) {
	var out SignedHeader
	if h == "" {
		return out, ErrNoSignature
	}
	if len(h) > maxSignatureHeader {
		return out, fmt.Errorf("%w: longer than %d bytes", ErrMalformedHeader, maxSignatureHeader)
	}
	seenT := false
	for _, part := range strings.Split(h, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return out, fmt.Errorf("%w: %q is not key=value", ErrMalformedHeader, truncate(part))
		}
		switch k {
		case "t":
			if seenT {
				return out, fmt.Errorf("%w: t given twice", ErrMalformedHeader)
			}
			seenT = true
			ts, err := strconv.ParseInt(v, 10, 64)
			if err != nil || ts <= 0 {
				return out, fmt.Errorf("%w: t must be positive Unix seconds", ErrMalformedHeader)
			}
			out.Timestamp = ts
		case "v1":
			if len(out.V1) == maxSignatures {
				return out, fmt.Errorf("%w: more than %d v1 signatures", ErrMalformedHeader, maxSignatures)
			}
			sig, err := hex.DecodeString(v)
			if err != nil || len(sig) != sha256.Size {
				return out, fmt.Errorf("%w: v1 must be %d hex characters", ErrMalformedHeader, 2*sha256.Size)
			}
			out.V1 = append(out.V1, sig)
		}
	}
	if !seenT {
		return out, fmt.Errorf("%w: no t", ErrMalformedHeader)
	}
	if len(out.V1) == 0 {
		return out, fmt.Errorf("%w: no v1 signature", ErrMalformedHeader)
	}
	return out, nil
}

func truncate(s string) string {
	const max = 32
	if len(s) > max {
		return s[:max] + "…"
	}
	return s
}

// computeSignature is HMAC-SHA256(secret, "<t>.<payload>").
func computeSignature(secret string, ts int64, payload []byte) []byte {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(strconv.FormatInt(ts, 10)))
	m.Write([]byte{'.'})
	m.Write(payload)
	return m.Sum(nil)
}

// Sign returns the signature header for payload signed at ts with each of
// secrets (several during a rotation), as the gateway sends it.
func Sign(payload []byte, ts time.Time, secrets ...string) string {
	t := ts.Unix()
	var b strings.Builder
	b.WriteString("t=")
	b.WriteString(strconv.FormatInt(t, 10))
	for _, s := range secrets {
		b.WriteString(",v1=")
		b.WriteString(hex.EncodeToString(computeSignature(s, t, payload)))
	}
	return b.String()
}

// VerifySignature checks header against payload: some v1 signature must
// match one of secrets (compared in constant time), and the timestamp must
// be within tolerance of now in either direction. tolerance <= 0 means
// DefaultTolerance.
func VerifySignature(payload []byte, header string, secrets []string, now time.Time, tolerance time.Duration) error {
	if len(secrets) == 0 {
		return errNoWebhookSecrets
	}
	h, err := ParseSignatureHeader(header)
	if err != nil {
		return err
	}
	if tolerance <= 0 {
		tolerance = DefaultTolerance
	}
	matched := false
	for _, secret := range secrets {
		want := computeSignature(secret, h.Timestamp, payload)
		for _, got := range h.V1 {
			// Compare against every signature without stopping early.
			if hmac.Equal(want, got) {
				matched = true
			}
		}
	}
	if !matched {
		return ErrBadSignature
	}
	skew := now.Sub(time.Unix(h.Timestamp, 0))
	if skew > tolerance || skew < -tolerance {
		return ErrTimestampSkewed
	}
	return nil
}
