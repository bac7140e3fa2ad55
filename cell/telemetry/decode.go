package telemetry

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/atollgg/atoll/contract"
	"github.com/atollgg/atoll/internal/httpx"
	"github.com/google/uuid"
)

// Request is the body of POST /game/telemetry.
type Request struct {
	// BatchID is the sender's id of the batch (1 to MaxIDLength bytes of
	// letters, digits, '-', '_', '.', ':'); a retry with the same id is
	// stored once. Empty means the cell generates one (no retry dedupe).
	BatchID string         `json:"batch_id,omitempty"`
	Events  []RequestEvent `json:"events"`
}

// RequestEvent is one event of a Request.
type RequestEvent struct {
	// EventID is the sender's id of the event (same shape as BatchID);
	// empty means one derived from the batch and the event's position.
	EventID string `json:"event_id,omitempty"`
	// PlayerID is ignored for players (always the token's subject); for
	// game servers it must be a player of the match, or empty.
	PlayerID string `json:"player_id,omitempty"`
	// SessionID is ignored for game servers (always their match's); for
	// players it is optional.
	SessionID string          `json:"session_id,omitempty"`
	EventType string          `json:"event_type"`
	Payload   json.RawMessage `json:"payload,omitempty"`
	Timestamp time.Time       `json:"timestamp"`
}

// Sender is who sent a batch, as the cell verified it.
type Sender struct {
	// Kind is contract.SenderClient or contract.SenderServer.
	Kind string
	// ID is the player (the token's subject) or the game server.
	ID string
	// SessionID and Mode are a server's match; empty for players.
	SessionID, Mode string
	// HasPlayer reports whether a player is in a server's match; nil for
	// players.
	HasPlayer func(playerID string) bool
}

// EventID derives an event's stored id from its sender and the sender's
// event id: the same event re-sent gets the same id (so the core stores it
// once), and no sender can choose an id that collides with another's. It
// is a name-based UUID (RFC 9562 version 8: the first 128 bits of the
// SHA-256 of the names, with the version and variant bits set), computed
// without allocating but for the string: SHA-256 runs in hardware here,
// where UUIDv5's SHA-1 cost a fifth of the decoder's time.
func EventID(senderKind, senderID, senderEventID string) string {
	var buf [3*MaxIDLength + 32]byte
	in := append(buf[:0], "atoll-telemetry\x00"...)
	in = append(in, senderKind...)
	in = append(in, 0)
	in = append(in, senderID...)
	in = append(in, 0)
	in = append(in, senderEventID...)
	sum := sha256.Sum256(in)
	sum[6] = sum[6]&0x0f | 0x80 // version 8
	sum[8] = sum[8]&0x3f | 0x80 // RFC 9562 variant
	var out [36]byte
	hex.Encode(out[0:8], sum[0:4])
	out[8] = '-'
	hex.Encode(out[9:13], sum[4:6])
	out[13] = '-'
	hex.Encode(out[14:18], sum[6:8])
	out[18] = '-'
	hex.Encode(out[19:23], sum[8:10])
	out[23] = '-'
	hex.Encode(out[24:36], sum[10:16])
	return string(out[:])
}

// Decode parses and checks a batch's body from s under lim at now, and
// returns the stream message. Every failure is an *httpx.Error (400 or
// 413); nothing of the request is trusted beyond its events' contents.
func Decode(body []byte, s Sender, lim Limits, now time.Time) (contract.TelemetryBatch, error) {
	if int64(len(body)) > lim.MaxBatchBytes {
		return contract.TelemetryBatch{}, tooLarge("batch larger than %d bytes", lim.MaxBatchBytes)
	}
	// Unknown fields are ignored, so newer clients can send fields this cell
	// does not know yet; json.Unmarshal also skips the copying a Decoder
	// does while it buffers a large body.
	// Sized up front: growing the slice while decoding copied every event
	// several times. The count is an upper bound (a payload may contain
	// the word), capped by the limit.
	capHint := min(bytes.Count(body, []byte(`"event_type"`)), lim.MaxEvents+1)
	req := Request{Events: make([]RequestEvent, 0, capHint)}
	if !decodeFast(body, &req) {
		req = Request{Events: make([]RequestEvent, 0, capHint)}
		if err := json.Unmarshal(body, &req); err != nil {
			return contract.TelemetryBatch{}, httpx.BadRequest("body is not a telemetry batch: %s", jsonError(err))
		}
	}
	if len(req.Events) == 0 {
		return contract.TelemetryBatch{}, httpx.BadRequest("events: want at least one")
	}
	if len(req.Events) > lim.MaxEvents {
		return contract.TelemetryBatch{}, tooLarge("batch has %d events, at most %d allowed", len(req.Events), lim.MaxEvents)
	}
	batchID := req.BatchID
	if batchID == "" {
		batchID = uuid.NewString()
	} else if !validID(batchID) {
		return contract.TelemetryBatch{}, httpx.BadRequest("batch_id: want 1 to %d letters, digits, '-', '_', '.' or ':'", MaxIDLength)
	}
	out := contract.TelemetryBatch{
		Sender: s.Kind, SenderID: s.ID, BatchID: batchID, GameMode: s.Mode, ReceivedAt: now.UTC(),
		Events: make([]contract.TelemetryEvent, len(req.Events)),
	}
	for i := range req.Events {
		e := &req.Events[i]
		if err := checkEvent(e, s, lim, now); err != nil {
			err.Message = "events[" + strconv.Itoa(i) + "]: " + err.Message
			return contract.TelemetryBatch{}, err
		}
		id := e.EventID
		if id == "" {
			id = batchID + "#" + strconv.Itoa(i)
		}
		ts := e.Timestamp
		if ts.After(now.Add(MaxClockSkew)) {
			ts = now
		}
		out.Events[i] = contract.TelemetryEvent{
			EventID: EventID(s.Kind, s.ID, id), PlayerID: e.PlayerID, SessionID: e.SessionID,
			EventType: e.EventType, Payload: e.Payload, Timestamp: ts.UTC(),
		}
		if s.Kind == contract.SenderClient {
			out.Events[i].PlayerID = s.ID
		} else {
			out.Events[i].SessionID = s.SessionID
		}
	}
	return out, nil
}

// checkEvent checks one event's fields; the caller adds its index.
func checkEvent(e *RequestEvent, s Sender, lim Limits, now time.Time) *httpx.Error {
	if e.EventID != "" && !validID(e.EventID) {
		return httpx.BadRequest("event_id: want 1 to %d letters, digits, '-', '_', '.' or ':'", MaxIDLength)
	}
	if !ValidEventType(e.EventType) {
		return httpx.BadRequest("event_type: want dot-separated words of a-z, 0-9 and '_', each starting with a letter, at most %d bytes", MaxEventType)
	}
	if s.Kind == contract.SenderClient && ServerOnly(e.EventType) {
		return httpx.BadRequest("event_type %q is reserved for game servers", e.EventType)
	}
	switch s.Kind {
	case contract.SenderClient:
		if e.SessionID != "" && !validID(e.SessionID) {
			return httpx.BadRequest("session_id: want 1 to %d letters, digits, '-', '_', '.' or ':'", MaxIDLength)
		}
	default:
		if e.PlayerID != "" && (s.HasPlayer == nil || !s.HasPlayer(e.PlayerID)) {
			return httpx.BadRequest("player_id is not a player of the server's match")
		}
	}
	if len(e.Payload) > 0 && !bytes.Equal(e.Payload, []byte("null")) {
		if e.Payload[0] != '{' {
			return httpx.BadRequest("payload: want a JSON object")
		}
		if len(e.Payload) > lim.MaxPayloadBytes {
			return tooLarge("payload larger than %d bytes", lim.MaxPayloadBytes)
		}
	} else {
		e.Payload = nil
	}
	if e.Timestamp.IsZero() {
		return httpx.BadRequest("timestamp is required (RFC 3339)")
	}
	if e.Timestamp.Before(now.Add(-MaxEventAge)) {
		return httpx.BadRequest("timestamp older than %s", MaxEventAge)
	}
	return nil
}

// ValidEventType reports whether t is dot-separated words of a-z, 0-9 and
// '_', each starting with a letter, at most MaxEventType bytes:
// "match.start", "anticheat.violation", "ui.button_click".
func ValidEventType(t string) bool {
	if t == "" || len(t) > MaxEventType {
		return false
	}
	start := true
	for i := 0; i < len(t); i++ {
		c := t[i]
		switch {
		case 'a' <= c && c <= 'z':
			start = false
		case ('0' <= c && c <= '9') || c == '_':
			if start {
				return false
			}
		case c == '.':
			if start {
				return false
			}
			start = true
		default:
			return false
		}
	}
	return !start
}

// ServerOnly reports whether t lies in a namespace only game servers may
// send (ServerOnlyPrefixes).
func ServerOnly(t string) bool {
	for _, p := range ServerOnlyPrefixes {
		if strings.HasPrefix(t, p) {
			return true
		}
	}
	return false
}

func validID(id string) bool {
	if id == "" || len(id) > MaxIDLength {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.' || c == ':') {
			return false
		}
	}
	return true
}

func tooLarge(format string, args ...any) *httpx.Error {
	return httpx.Errorf(http.StatusRequestEntityTooLarge, httpx.CodePayloadTooLarge, format, args...)
}

// jsonError says what is wrong with a body without echoing it.
func jsonError(err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return "malformed JSON at byte " + strconv.FormatInt(se.Offset, 10)
	case errors.As(err, &te):
		return "field " + te.Field + " has the wrong type"
	}
	return "invalid JSON"
}
