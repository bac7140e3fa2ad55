package matchmaking

import (
	"testing"
	"time"
)

func TestRetryDelay(t *testing.T) {
	cases := []struct {
		delivered uint64
		want      time.Duration
	}{
		{0, eventRetryInitial},
		{1, eventRetryInitial},
		{2, 2 * eventRetryInitial},
		{3, 4 * eventRetryInitial},
		{9, 256 * eventRetryInitial},
		{10, eventRetryMax},
		{1 << 40, eventRetryMax},
	}
	for _, tc := range cases {
		if got := retryDelay(tc.delivered); got != tc.want {
			t.Errorf("retryDelay(%d) = %v, want %v", tc.delivered, got, tc.want)
		}
	}
}
