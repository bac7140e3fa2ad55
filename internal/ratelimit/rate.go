package ratelimit

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// maxSpan bounds Per/Events × Burst, the time a full bucket takes to refill
// from empty: a year is far beyond any sensible limit, and it keeps bucket
// arithmetic on nanosecond offsets clear of int64 overflow.
const maxSpan = 366 * 24 * time.Hour

// Rate allows Events per Per on average, with up to Burst at once.
type Rate struct {
	// Events is how many events are allowed per Per.
	Events int
	// Per is the period Events are counted over.
	Per time.Duration
	// Burst is how many events may happen back to back after a quiet
	// spell. ParseRate defaults it to Events.
	Burst int
}

// Off is the zero Rate: no limit. ParseRate returns it for "off".
var Off = Rate{}

// IsOff reports whether r imposes no limit.
func (r Rate) IsOff() bool { return r == Off }

// ErrInvalidRate is wrapped by every ParseRate and Rate.Validate error.
var ErrInvalidRate = errors.New("invalid rate")

// Validate reports whether r is Off or a usable limit.
func (r Rate) Validate() error {
	if r.IsOff() {
		return nil
	}
	switch {
	case r.Events < 1:
		return fmt.Errorf("%w: events %d, want at least 1", ErrInvalidRate, r.Events)
	case r.Per <= 0:
		return fmt.Errorf("%w: period %v, want positive", ErrInvalidRate, r.Per)
	case r.Burst < 1:
		return fmt.Errorf("%w: burst %d, want at least 1", ErrInvalidRate, r.Burst)
	case r.interval() < 1:
		return fmt.Errorf("%w: %d events per %v is more than one per nanosecond", ErrInvalidRate, r.Events, r.Per)
	case int64(r.Burst) > int64(maxSpan)/int64(r.interval()):
		return fmt.Errorf("%w: burst %d at %d/%v takes longer than %v to refill", ErrInvalidRate, r.Burst, r.Events, r.Per, maxSpan)
	}
	return nil
}

// interval is the time one event's token takes to come back. Truncating to
// whole nanoseconds makes odd rates (7/s) a part per billion generous.
func (r Rate) interval() time.Duration { return r.Per / time.Duration(r.Events) }

// String renders r in ParseRate's syntax.
func (r Rate) String() string {
	if r.IsOff() {
		return "off"
	}
	var per string
	switch r.Per {
	case time.Second:
		per = "s"
	case time.Minute:
		per = "min"
	case time.Hour:
		per = "h"
	case 24 * time.Hour:
		per = "day"
	default:
		per = r.Per.String()
	}
	s := strconv.Itoa(r.Events) + "/" + per
	if r.Burst != r.Events {
		s += ",burst=" + strconv.Itoa(r.Burst)
	}
	return s
}

// units are the period names ParseRate accepts besides Go durations.
var units = map[string]time.Duration{
	"s": time.Second, "sec": time.Second, "second": time.Second,
	"m": time.Minute, "min": time.Minute, "minute": time.Minute,
	"h": time.Hour, "hr": time.Hour, "hour": time.Hour,
	"d": 24 * time.Hour, "day": 24 * time.Hour,
}

// maxSpecLen bounds a rate spec before parsing; real ones are ~20 bytes.
const maxSpecLen = 128

// ParseRate parses "N/period[,burst=B]", where period is s, min, h, day
// (and spellings like sec, minute, hour) or a Go duration such as 10s or
// 15m; Burst defaults to N. "off" returns Off. Examples: "10/s",
// "20/min", "100/h,burst=10", "5/30s".
func ParseRate(spec string) (Rate, error) {
	if len(spec) > maxSpecLen {
		return Rate{}, fmt.Errorf("%w: spec longer than %d bytes", ErrInvalidRate, maxSpecLen)
	}
	s := strings.ToLower(strings.TrimSpace(spec))
	if s == "off" {
		return Off, nil
	}
	head, opts, hasOpts := strings.Cut(s, ",")
	n, period, ok := strings.Cut(head, "/")
	if !ok {
		return Rate{}, fmt.Errorf("%w: %q: want N/period, like 20/min", ErrInvalidRate, spec)
	}
	events, err := strconv.Atoi(strings.TrimSpace(n))
	if err != nil {
		return Rate{}, fmt.Errorf("%w: %q: event count is not an integer", ErrInvalidRate, spec)
	}
	period = strings.TrimSpace(period)
	per, ok := units[period]
	if !ok {
		if per, err = time.ParseDuration(period); err != nil {
			return Rate{}, fmt.Errorf("%w: %q: period must be s, min, h, day or a duration like 10s", ErrInvalidRate, spec)
		}
	}
	r := Rate{Events: events, Per: per, Burst: events}
	if hasOpts {
		name, value, _ := strings.Cut(opts, "=")
		if strings.TrimSpace(name) != "burst" {
			return Rate{}, fmt.Errorf("%w: %q: the only option is burst=N", ErrInvalidRate, spec)
		}
		if r.Burst, err = strconv.Atoi(strings.TrimSpace(value)); err != nil {
			return Rate{}, fmt.Errorf("%w: %q: burst is not an integer", ErrInvalidRate, spec)
		}
	}
	if r.IsOff() {
		// "0/s,burst=0" must not silently mean "no limit".
		return Rate{}, fmt.Errorf("%w: %q: write off to disable limiting", ErrInvalidRate, spec)
	}
	if err := r.Validate(); err != nil {
		return Rate{}, fmt.Errorf("%q: %w", spec, err)
	}
	return r, nil
}
