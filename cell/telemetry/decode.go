package telemetry

import (
	"bytes"
	"encoding/json"
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

// eventIDSpace namespaces the cell's derived event ids (UUIDv5).
var eventIDSpace = uuid.MustParse("6f1c3a52-3f0e-4d59-9a7e-8a0f4f7c2b11")

// EventID derives an event's stored id from its sender and the sender's
// event id: the same event re-sent gets the same id (so the core stores it
// once), and no sender can choose an id that collides with another's.
func EventID(senderKind, senderID, senderEventID string) string {
	return uuid.NewSHA1(eventIDSpace, []byte(senderKind+"\x00"+senderID+"\x00"+senderEventID)).String()
}

// Decode parses and checks a batch's body from s under lim at now, and
// returns the stream message. Every failure is an *httpx.Error (400 or
// 413); nothing of the request is trusted beyond its events' contents.
func Decode(body []byte, s Sender, lim Limits, now time.Time) (contract.TelemetryBatch, error) {
	if int64(len(body)) > lim.MaxBatchBytes {
		return contract.TelemetryBatch{}, tooLarge("batch larger than %d bytes", lim.MaxBatchBytes)
	}
	var req Request
	if err := httpx.DecodeStrict(bytes.NewReader(body), &req); err != nil {
		return contract.TelemetryBatch{}, err
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
