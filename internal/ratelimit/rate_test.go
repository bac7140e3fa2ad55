package ratelimit

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestParseRate(t *testing.T) {
	tests := []struct {
		spec string
		want Rate
	}{
		{"10/s", Rate{10, time.Second, 10}},
		{"20/min", Rate{20, time.Minute, 20}},
		{"100/h", Rate{100, time.Hour, 100}},
		{"1000/day", Rate{1000, 24 * time.Hour, 1000}},
		{"5/sec", Rate{5, time.Second, 5}},
		{"5/second", Rate{5, time.Second, 5}},
		{"5/m", Rate{5, time.Minute, 5}},
		{"5/minute", Rate{5, time.Minute, 5}},
		{"5/hr", Rate{5, time.Hour, 5}},
		{"5/hour", Rate{5, time.Hour, 5}},
		{"5/d", Rate{5, 24 * time.Hour, 5}},
		{"5/30s", Rate{5, 30 * time.Second, 5}},
		{"3/1m30s", Rate{3, 90 * time.Second, 3}},
		{"20/min,burst=5", Rate{20, time.Minute, 5}},
		{"20/min,burst=100", Rate{20, time.Minute, 100}},
		{" 20 / MIN , Burst = 5 ", Rate{20, time.Minute, 5}},
		{"off", Off},
		{" OFF ", Off},
		{"1000000000/s", Rate{1000000000, time.Second, 1000000000}},
	}
	for _, tt := range tests {
		t.Run(tt.spec, func(t *testing.T) {
			got, err := ParseRate(tt.spec)
			if err != nil || got != tt.want {
				t.Fatalf("ParseRate(%q) = %+v, %v; want %+v", tt.spec, got, err, tt.want)
			}
			// String round-trips.
			again, err := ParseRate(got.String())
			if err != nil || again != got {
				t.Fatalf("ParseRate(%q) = %+v, %v; want %+v", got.String(), again, err, got)
			}
		})
	}
}

func TestParseRateRejects(t *testing.T) {
	for _, spec := range []string{
		"",
		"10",
		"/s",
		"ten/s",
		"10/",
		"10/fortnight",
		"10/-1s",
		"10/0s",
		"0/s",
		"-5/min",
		"1.5/s",
		"0/s,burst=0",
		"10/s,burst=0",
		"10/s,burst=-1",
		"10/s,burst=x",
		"10/s,burst",
		"10/s,rate=3",
		"10/s,burst=3,burst=4",
		"2000000000/s",                // more than one per nanosecond
		"1/day,burst=400",             // 400 days to refill
		"99999999999999999999/s",      // overflows int
		"10/s,burst=9999999999999999", // overflows the span
		"of",
		strings.Repeat("1", maxSpecLen+1) + "/s",
	} {
		t.Run(spec, func(t *testing.T) {
			if got, err := ParseRate(spec); !errors.Is(err, ErrInvalidRate) {
				t.Fatalf("ParseRate(%q) = %+v, %v; want ErrInvalidRate", spec, got, err)
			}
		})
	}
}

func TestRateString(t *testing.T) {
	tests := []struct {
		rate Rate
		want string
	}{
		{Off, "off"},
		{Rate{20, time.Minute, 20}, "20/min"},
		{Rate{20, time.Minute, 5}, "20/min,burst=5"},
		{Rate{5, 30 * time.Second, 5}, "5/30s"},
	}
	for _, tt := range tests {
		if got := tt.rate.String(); got != tt.want {
			t.Errorf("%+v.String() = %q, want %q", tt.rate, got, tt.want)
		}
	}
}
