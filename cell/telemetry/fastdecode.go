package telemetry

import (
	"bytes"
	"encoding/json"
	"unicode/utf8"
)

// decodeFast parses the common shape of a batch without reflection: the
// known keys spelled exactly, each at most once, string fields without
// escapes. It reports false, leaving req unspecified, for anything else
// (escapes, other spellings, nulls, invalid input), and the caller decodes
// with encoding/json, which then also produces the error. Whenever it
// reports true, the result is what json.Unmarshal gives (FuzzDecode checks
// it): timestamps go through time.Time's own UnmarshalJSON, payloads are
// checked with json.Valid.
func decodeFast(b []byte, req *Request) bool {
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return false
	}
	var seen [2]bool
	i, ok := eachKey(b, i, func(key []byte, j int) (int, bool) {
		switch string(key) {
		case "batch_id":
			if seen[0] {
				return 0, false
			}
			seen[0] = true
			return plainString(b, j, &req.BatchID)
		case "events":
			if seen[1] {
				return 0, false
			}
			seen[1] = true
			return decodeEvents(b, j, req)
		}
		return 0, false
	})
	return ok && skipSpace(b, i) == len(b)
}

func decodeEvents(b []byte, i int, req *Request) (int, bool) {
	if i >= len(b) || b[i] != '[' {
		return 0, false
	}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == ']' {
		return i + 1, true
	}
	for {
		req.Events = append(req.Events, RequestEvent{})
		e := &req.Events[len(req.Events)-1]
		var ok bool
		if i, ok = decodeEvent(b, i, e); !ok {
			return 0, false
		}
		i = skipSpace(b, i)
		if i >= len(b) {
			return 0, false
		}
		switch b[i] {
		case ',':
			i = skipSpace(b, i+1)
		case ']':
			return i + 1, true
		default:
			return 0, false
		}
	}
}

func decodeEvent(b []byte, i int, e *RequestEvent) (int, bool) {
	if i >= len(b) || b[i] != '{' {
		return 0, false
	}
	var seen [6]bool
	once := func(k int) bool {
		if seen[k] {
			return false
		}
		seen[k] = true
		return true
	}
	return eachKey(b, i, func(key []byte, j int) (int, bool) {
		switch string(key) {
		case "event_id":
			if once(0) {
				return plainString(b, j, &e.EventID)
			}
		case "player_id":
			if once(1) {
				return plainString(b, j, &e.PlayerID)
			}
		case "session_id":
			if once(2) {
				return plainString(b, j, &e.SessionID)
			}
		case "event_type":
			if once(3) {
				return plainString(b, j, &e.EventType)
			}
		case "payload":
			if once(4) {
				end, ok := skipValue(b, j)
				if !ok || !json.Valid(b[j:end]) {
					return 0, false
				}
				e.Payload = bytes.Clone(b[j:end])
				return end, true
			}
		case "timestamp":
			if once(5) {
				end, ok := stringEnd(b, j)
				if !ok || e.Timestamp.UnmarshalJSON(b[j:end]) != nil {
					return 0, false
				}
				return end, true
			}
		}
		return 0, false
	})
}

// eachKey walks the object starting at b[i] == '{', calling value for each
// key with the index of its value; value returns the index after it.
func eachKey(b []byte, i int, value func(key []byte, j int) (int, bool)) (int, bool) {
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		return i + 1, true
	}
	for {
		end, ok := stringEnd(b, i)
		if !ok {
			return 0, false
		}
		key := b[i+1 : end-1]
		i = skipSpace(b, end)
		if i >= len(b) || b[i] != ':' {
			return 0, false
		}
		if i, ok = value(key, skipSpace(b, i+1)); !ok {
			return 0, false
		}
		i = skipSpace(b, i)
		if i >= len(b) {
			return 0, false
		}
		switch b[i] {
		case ',':
			i = skipSpace(b, i+1)
		case '}':
			return i + 1, true
		default:
			return 0, false
		}
	}
}

// stringEnd returns the index after the string at b[i], which must have no
// escapes or control characters and be valid UTF-8.
func stringEnd(b []byte, i int) (int, bool) {
	if i >= len(b) || b[i] != '"' {
		return 0, false
	}
	ascii := true
	for j := i + 1; j < len(b); j++ {
		switch c := b[j]; {
		case c == '"':
			return j + 1, ascii || utf8.Valid(b[i+1:j])
		case c == '\\' || c < 0x20:
			return 0, false
		case c >= utf8.RuneSelf:
			ascii = false
		}
	}
	return 0, false
}

func plainString(b []byte, i int, dst *string) (int, bool) {
	end, ok := stringEnd(b, i)
	if !ok {
		return 0, false
	}
	*dst = string(b[i+1 : end-1])
	return end, true
}

// skipValue returns the index after the JSON value at b[i], tracking only
// nesting and strings; json.Valid checks the rest.
func skipValue(b []byte, i int) (int, bool) {
	depth := 0
	for j := i; j < len(b); j++ {
		switch b[j] {
		case '"':
			k := j + 1
			for ; k < len(b) && b[k] != '"'; k++ {
				if b[k] == '\\' {
					k++
				}
			}
			if k >= len(b) {
				return 0, false
			}
			j = k
			if depth == 0 {
				return j + 1, true
			}
		case '{', '[':
			depth++
		case '}', ']':
			if depth == 0 { // the end of the object holding a scalar
				return j, j > i
			}
			depth--
			if depth == 0 {
				return j + 1, true
			}
		case ',', ' ', '\t', '\n', '\r', ':':
			if depth == 0 {
				return j, j > i
			}
		}
	}
	if depth == 0 && len(b) > i {
		return len(b), true
	}
	return 0, false
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}
